//! Text out of a résumé file: PDF (pdf-extract), DOCX (docx-rs), or plain
//! text / Markdown. The format is told by the file's first bytes, not its
//! name. A file that cannot be read is an error saying so, never a panic: the
//! PDF reader is known to panic on some malformed files, so it runs behind
//! `catch_unwind`.

use docx_rs::{
    DocumentChild, ParagraphChild, RunChild, TableCellContent, TableChild, TableRowChild,
};

/// Largest résumé file accepted.
pub const MAX_FILE: usize = 10 << 20;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResumeError {
    #[error("the file is larger than {} MB", MAX_FILE >> 20)]
    TooLarge,
    #[error("not a PDF, DOCX or UTF-8 text file")]
    Unsupported,
    #[error("the {format} file cannot be read: {why}")]
    Corrupt { format: &'static str, why: String },
    #[error("the {0} file has no text (a scanned image?)")]
    Empty(&'static str),
}

/// The résumé's text, and the format it was read as (`pdf`, `docx`, `text`).
pub fn extract(bytes: &[u8]) -> Result<(String, &'static str), ResumeError> {
    if bytes.len() > MAX_FILE {
        return Err(ResumeError::TooLarge);
    }
    let (text, format) = if bytes.starts_with(b"%PDF-") {
        (pdf(bytes)?, "pdf")
    } else if bytes.starts_with(b"PK\x03\x04") {
        (docx(bytes)?, "docx")
    } else {
        let text = std::str::from_utf8(bytes).map_err(|_| ResumeError::Unsupported)?;
        if text.contains('\0') {
            return Err(ResumeError::Unsupported);
        }
        (text.to_owned(), "text")
    };
    if text.trim().is_empty() {
        return Err(ResumeError::Empty(format));
    }
    Ok((text, format))
}

fn pdf(bytes: &[u8]) -> Result<String, ResumeError> {
    let corrupt = |why: String| ResumeError::Corrupt { format: "PDF", why };
    match std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes)) {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(e)) => Err(corrupt(e.to_string())),
        Err(_) => Err(corrupt("the PDF reader gave up on it".into())),
    }
}

fn docx(bytes: &[u8]) -> Result<String, ResumeError> {
    let doc = docx_rs::read_docx(bytes).map_err(|e| ResumeError::Corrupt {
        format: "DOCX",
        why: e.to_string(),
    })?;
    let mut out = String::new();
    for child in &doc.document.children {
        match child {
            DocumentChild::Paragraph(p) => paragraph(&p.children, &mut out),
            DocumentChild::Table(t) => table(&t.rows, &mut out),
            _ => {}
        }
    }
    Ok(out)
}

fn paragraph(children: &[ParagraphChild], out: &mut String) {
    for child in children {
        match child {
            ParagraphChild::Run(run) => {
                for c in &run.children {
                    match c {
                        RunChild::Text(t) => out.push_str(&t.text),
                        RunChild::Tab(_) => out.push('\t'),
                        RunChild::Break(_) => out.push('\n'),
                        _ => {}
                    }
                }
            }
            ParagraphChild::Hyperlink(h) => paragraph(&h.children, out),
            _ => {}
        }
    }
    out.push('\n');
}

fn table(rows: &[TableChild], out: &mut String) {
    for TableChild::TableRow(row) in rows {
        for TableRowChild::TableCell(cell) in &row.cells {
            for content in &cell.children {
                match content {
                    TableCellContent::Paragraph(p) => paragraph(&p.children, out),
                    TableCellContent::Table(t) => table(&t.rows, out),
                    _ => {}
                }
            }
        }
    }
}

/// Résumé files made in memory, for tests (here and in the server's
/// end-to-end tests): a DOCX of paragraphs, a one-page PDF of Latin lines.
#[doc(hidden)]
pub mod fixtures {
    pub fn docx(lines: &[&str]) -> Vec<u8> {
        let mut doc = docx_rs::Docx::new();
        for l in lines {
            doc = doc
                .add_paragraph(docx_rs::Paragraph::new().add_run(docx_rs::Run::new().add_text(*l)));
        }
        let mut buf = std::io::Cursor::new(Vec::new());
        doc.build().pack(&mut buf).expect("write the DOCX");
        buf.into_inner()
    }

    /// A one-page PDF with `lines` in Helvetica (Latin text).
    pub fn pdf(lines: &[&str]) -> Vec<u8> {
        use lopdf::content::{Content, Operation};
        use lopdf::{dictionary, Document, Object, Stream};
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let font_id = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
        });
        let resources_id = doc.add_object(dictionary! {
            "Font" => dictionary! { "F1" => font_id },
        });
        let mut ops = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 12.into()]),
        ];
        for (i, l) in lines.iter().enumerate() {
            if i == 0 {
                ops.push(Operation::new("Td", vec![72.into(), 720.into()]));
            } else {
                ops.push(Operation::new("Td", vec![0.into(), (-16).into()]));
            }
            ops.push(Operation::new("Tj", vec![Object::string_literal(*l)]));
        }
        ops.push(Operation::new("ET", vec![]));
        let content = Content { operations: ops };
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        });
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
                "Resources" => resources_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            }),
        );
        let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog_id);
        let mut out = Vec::new();
        doc.save_to(&mut out).expect("write the PDF");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{docx as docx_of, pdf as pdf_of};
    use super::*;

    #[test]
    fn a_pdf_resume_gives_its_text() {
        let bytes = pdf_of(&[
            "Alice Chen",
            "Backend engineer, 6 years of experience.",
            "Java, Spring Boot, Kafka.",
        ]);
        let (text, format) = extract(&bytes).unwrap();
        assert_eq!(format, "pdf");
        assert!(text.contains("6 years of experience"), "{text:?}");
        assert!(text.contains("Kafka"), "{text:?}");
    }

    #[test]
    fn a_docx_resume_gives_its_text_in_any_script() {
        let bytes = docx_of(&[
            "张伟",
            "五年多后端开发经验。",
            "主要用Java和Spring Cloud，服务部署在K8s上。",
        ]);
        let (text, format) = extract(&bytes).unwrap();
        assert_eq!(format, "docx");
        assert!(text.contains("五年多后端开发经验"), "{text:?}");
        assert!(text.contains("Spring Cloud"), "{text:?}");
    }

    #[test]
    fn bad_files_are_refused_with_the_reason_never_a_panic() {
        assert_eq!(extract("# Alice\nJava".as_bytes()).unwrap().1, "text");
        assert_eq!(
            extract(&[0xff, 0xfe, 0x00, 0x01]),
            Err(ResumeError::Unsupported)
        );
        assert_eq!(extract(b"   \n"), Err(ResumeError::Empty("text")));
        let mut pdf = pdf_of(&["Alice"]);
        pdf.truncate(pdf.len() / 2);
        assert!(
            matches!(
                extract(&pdf),
                Err(ResumeError::Corrupt { format: "PDF", .. })
            ),
            "{:?}",
            extract(&pdf)
        );
        assert!(matches!(
            extract(b"PK\x03\x04 not really a zip"),
            Err(ResumeError::Corrupt { format: "DOCX", .. })
        ));
        for garbage in [&b"%PDF-1.5\n%%EOF"[..], b"%PDF-", b"PK\x03\x04"] {
            assert!(extract(garbage).is_err(), "{garbage:?}");
        }
        assert_eq!(
            extract(&vec![b'a'; MAX_FILE + 1]),
            Err(ResumeError::TooLarge)
        );
    }
}

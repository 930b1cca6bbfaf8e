//! Finds the line of a key path in the script text, so validation errors (found
//! on the deserialised structs, which have no positions) can point into the file.

use toml_edit::{ImDocument, Item, Table, Value};

use super::error::{KeyPath, Seg};

/// The parsed document, kept only for its spans.
pub(crate) struct Locator {
    text: String,
    doc: Option<ImDocument<String>>,
}

impl Locator {
    pub(crate) fn new(text: &str) -> Self {
        Locator {
            text: text.to_owned(),
            doc: ImDocument::parse(text.to_owned()).ok(),
        }
    }

    /// The 1-based line of `path`, or of its nearest ancestor present in the file
    /// (a missing key points at the table that should hold it); 1 if nothing is.
    pub(crate) fn line(&self, path: &KeyPath) -> usize {
        let Some(doc) = &self.doc else { return 1 };
        let mut best: Option<usize> = None;
        let mut node = Node::Table(doc.as_table());
        for seg in &path.0 {
            let (key_start, next) = match (node, seg) {
                (Node::Table(t), Seg::Key(k))
                | (Node::Item(Item::Table(t)), Seg::Key(k))
                | (Node::Element(t), Seg::Key(k)) => (
                    t.key(k).and_then(|k| k.span()).map(|s| s.start),
                    t.get(k).map(Node::Item),
                ),
                (Node::Item(Item::Value(Value::InlineTable(t))), Seg::Key(k))
                | (Node::Value(Value::InlineTable(t)), Seg::Key(k)) => (
                    t.key(k).and_then(|k| k.span()).map(|s| s.start),
                    t.get(k).map(Node::Value),
                ),
                (Node::Item(Item::ArrayOfTables(a)), Seg::Index(i)) => {
                    (None, a.get(*i).map(Node::Element))
                }
                (Node::Item(Item::Value(Value::Array(a))), Seg::Index(i))
                | (Node::Value(Value::Array(a)), Seg::Index(i)) => {
                    (None, a.get(*i).map(Node::Value))
                }
                _ => (None, None),
            };
            let Some(next) = next else { break };
            // The key's own position is what a reader looks for; a table in an
            // array of tables has no key, its header is its position.
            if let Some(start) = key_start.or_else(|| next.span_start()) {
                best = Some(start);
            }
            node = next;
        }
        best.map_or(1, |offset| self.line_of(offset))
    }

    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }
}

#[derive(Clone, Copy)]
enum Node<'a> {
    Table(&'a Table),
    /// A table inside an array of tables (`[[questions]]`).
    Element(&'a Table),
    Item(&'a Item),
    Value(&'a Value),
}

impl Node<'_> {
    fn span_start(&self) -> Option<usize> {
        match self {
            Node::Table(t) | Node::Element(t) => t.span().map(|s| s.start),
            Node::Item(i) => i.span().map(|s| s.start),
            Node::Value(v) => v.span().map(|s| s.start),
        }
    }
}

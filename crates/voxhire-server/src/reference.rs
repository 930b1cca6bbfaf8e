//! The API reference page (`/api/v1/docs`): the OpenAPI document rendered
//! as one self-contained HTML page — every route with its parameters, body
//! and answers, and every schema with its fields — with no script and
//! nothing fetched from elsewhere, so it reads the same on a machine without
//! internet access.

use std::fmt::Write;

use serde_json::Value;

/// Renders `doc` as HTML.
pub fn render(doc: &utoipa::openapi::OpenApi) -> String {
    let doc = serde_json::to_value(doc).expect("the OpenAPI document serialises");
    let mut h = String::new();
    let title = text(&doc["info"]["title"]);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>{STYLE}</style></head><body><h1>{t} <small>{v}</small></h1><p>{d}</p>\
         <p>The machine-readable document: <a href=\"openapi.json\">openapi.json</a> (OpenAPI {o}).</p>",
        t = esc(&title),
        v = esc(&text(&doc["info"]["version"])),
        d = esc(&text(&doc["info"]["description"])),
        o = esc(&text(&doc["openapi"])),
    );
    h.push_str("<h2>Routes</h2>");
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in ["get", "put", "post", "delete", "patch"] {
                let op = &item[method];
                if op.is_null() {
                    continue;
                }
                operation(&mut h, method, path, op);
            }
        }
    }
    h.push_str("<h2>Schemas</h2>");
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            let _ = write!(h, "<h3 id=\"schema-{n}\">{n}</h3>", n = esc(name));
            if let Some(d) = schema["description"].as_str() {
                let _ = write!(h, "<p>{}</p>", esc(d));
            }
            fields(&mut h, schema);
        }
    }
    h.push_str("</body></html>");
    h
}

fn operation(h: &mut String, method: &str, path: &str, op: &Value) {
    let _ = write!(
        h,
        "<section><h3><span class=\"m {m}\">{M}</span> <code>{p}</code></h3>",
        m = method,
        M = method.to_uppercase(),
        p = esc(path),
    );
    for key in ["summary", "description"] {
        if let Some(t) = op[key].as_str() {
            let _ = write!(h, "<p>{}</p>", esc(t));
        }
    }
    if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
        h.push_str("<table><tr><th>parameter</th><th>in</th><th>type</th><th></th></tr>");
        for p in params {
            let _ = write!(
                h,
                "<tr><td><code>{n}</code>{r}</td><td>{i}</td><td>{t}</td><td>{d}</td></tr>",
                n = esc(&text(&p["name"])),
                r = if p["required"].as_bool() == Some(true) {
                    " (required)"
                } else {
                    ""
                },
                i = esc(&text(&p["in"])),
                t = type_of(&p["schema"]),
                d = esc(&text(&p["description"])),
            );
        }
        h.push_str("</table>");
    }
    if let Some(content) = op["requestBody"]["content"].as_object() {
        h.push_str("<p>Body: ");
        let parts: Vec<String> = content
            .iter()
            .map(|(mime, c)| format!("<code>{}</code> {}", esc(mime), type_of(&c["schema"])))
            .collect();
        h.push_str(&parts.join("; "));
        if let Some(d) = op["requestBody"]["description"].as_str() {
            let _ = write!(h, " — {}", esc(d));
        }
        h.push_str("</p>");
    }
    if let Some(responses) = op["responses"].as_object() {
        h.push_str("<table><tr><th>answer</th><th>body</th><th></th></tr>");
        for (status, r) in responses {
            let body: Vec<String> = r["content"]
                .as_object()
                .map(|c| {
                    c.iter()
                        .map(|(mime, c)| match c["schema"].is_null() {
                            true => format!("<code>{}</code>", esc(mime)),
                            false => type_of(&c["schema"]),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let _ = write!(
                h,
                "<tr><td>{s}</td><td>{b}</td><td>{d}</td></tr>",
                s = esc(status),
                b = body.join(", "),
                d = esc(&text(&r["description"])),
            );
        }
        h.push_str("</table>");
    }
    h.push_str("</section>");
}

fn fields(h: &mut String, schema: &Value) {
    let Some(props) = schema["properties"].as_object() else {
        let _ = write!(h, "<p>{}</p>", type_of(schema));
        return;
    };
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    h.push_str("<table><tr><th>field</th><th>type</th><th></th></tr>");
    for (name, p) in props {
        let _ = write!(
            h,
            "<tr><td><code>{n}</code>{r}</td><td>{t}</td><td>{d}</td></tr>",
            n = esc(name),
            r = if required.contains(&name.as_str()) {
                ""
            } else {
                " (optional)"
            },
            t = type_of(p),
            d = esc(&text(&p["description"])),
        );
    }
    h.push_str("</table>");
}

/// A schema's type in a few words, linking named schemas.
fn type_of(s: &Value) -> String {
    if let Some(r) = s["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("<a href=\"#schema-{n}\">{n}</a>", n = esc(name));
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(v) = s[key].as_array() {
            let parts: Vec<String> = v
                .iter()
                .filter(|x| x["type"] != "null")
                .map(type_of)
                .collect();
            return parts.join(" or ");
        }
    }
    let ty = match &s["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" or "),
        _ => return "any".into(),
    };
    if ty == "array" {
        return format!("array of {}", type_of(&s["items"]));
    }
    esc(&ty)
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}\
code{font:13px ui-monospace,monospace}table{border-collapse:collapse;margin:.5em 0}\
td,th{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}\
section{border-top:1px solid #eee;margin-top:1.5em}.m{font:bold 12px ui-monospace,monospace;padding:.1em .4em;border-radius:3px;color:#fff;background:#555}\
.get{background:#2a7}.post{background:#27c}.put{background:#c72}small{color:#888;font-weight:normal}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_and_schema_is_on_the_page_escaped() {
        let doc = crate::api::openapi();
        let page = render(&doc);
        let json = serde_json::to_value(&doc).unwrap();
        for path in json["paths"].as_object().unwrap().keys() {
            assert!(
                page.contains(&format!("<code>{}</code>", esc(path))),
                "{path}"
            );
        }
        assert!(page.contains("id=\"schema-Candidate\""));
        assert!(page.contains("id=\"schema-CampaignSettings\""));
        assert!(!page.contains("<script"));
        // The shared answers and path parameters reach every operation.
        let get_job = &json["paths"]["/api/v1/jobs/{id}"]["get"];
        for status in ["200", "401", "403", "404"] {
            assert!(
                get_job["responses"][status].is_object(),
                "{status}: {get_job}"
            );
        }
        assert_eq!(get_job["parameters"][0]["name"], "id", "{get_job}");
        assert_eq!(get_job["parameters"][0]["in"], "path");
        let file = &json["paths"]["/api/v1/interviews/{id}/{file}"]["get"]["parameters"];
        assert_eq!(
            file.as_array().unwrap().len(),
            3,
            "id, file and Range once each: {file}"
        );
        let health = &json["paths"]["/api/v1/health"]["get"]["responses"];
        assert!(health["401"].is_null(), "health needs no key: {health}");
        assert_eq!(esc("<a&\"b\">"), "&lt;a&amp;&quot;b&quot;&gt;");
    }
}

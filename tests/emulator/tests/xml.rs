//! `.xml` for every method that offers it: the same envelope as the JSON
//! answer, in the rendering `render.rs` documents, read back with an XML
//! parser and compared member by member.

mod client;

use client::*;
use lastline_emulator::{Config, EICAR};
use serde_json::Value;

/// The documented rendering, as a tree both sides reduce to: an element's
/// text, or its children in order (name, `key` attribute, subtree).
#[derive(Debug, PartialEq)]
enum Node {
    Text(String),
    Children(Vec<(String, Option<String>, Node)>),
}

fn xml_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
            c => c,
        })
        .collect()
}

fn is_xml_name(k: &str) -> bool {
    let mut cs = k.chars();
    cs.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn from_json(v: &Value) -> Node {
    match v {
        Value::Null => Node::Text(String::new()),
        Value::Bool(b) => Node::Text(if *b { "1" } else { "0" }.into()),
        Value::Number(n) => Node::Text(n.to_string()),
        Value::String(s) => Node::Text(xml_text(s)),
        Value::Array(a) if a.is_empty() => Node::Text(String::new()),
        Value::Object(m) if m.is_empty() => Node::Text(String::new()),
        Value::Array(a) => Node::Children(
            a.iter()
                .map(|i| ("item".into(), None, from_json(i)))
                .collect(),
        ),
        Value::Object(m) => Node::Children(
            m.iter()
                .map(|(k, v)| {
                    if is_xml_name(k) {
                        (k.clone(), None, from_json(v))
                    } else {
                        ("entry".into(), Some(xml_text(k)), from_json(v))
                    }
                })
                .collect(),
        ),
    }
}

fn from_xml(n: roxmltree::Node<'_, '_>) -> Node {
    let children: Vec<_> = n.children().filter(|c| c.is_element()).collect();
    if children.is_empty() {
        return Node::Text(n.text().unwrap_or("").to_string());
    }
    Node::Children(
        children
            .into_iter()
            .map(|c| {
                (
                    c.tag_name().name().to_string(),
                    c.attribute("key").map(str::to_string),
                    from_xml(c),
                )
            })
            .collect(),
    )
}

/// Values that may differ between two calls: the clock, and what a
/// mutating call creates (new UUIDs).
fn masked(n: Node, uuids: bool) -> Node {
    match n {
        Node::Text(t) => {
            let time = t.len() == 19 && t.as_bytes()[4] == b'-' && t.as_bytes()[13] == b':';
            let uuid = uuids && t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit());
            Node::Text(if time || uuid { "*".into() } else { t })
        }
        Node::Children(c) => Node::Children(
            c.into_iter()
                .map(|(name, key, n)| (name, key, masked(n, uuids)))
                .collect(),
        ),
    }
}

#[test]
fn every_method_answers_xml_with_the_json_answers_envelope() {
    let env = Env::new(Config::default());
    let mut evil = b"xml ".to_vec();
    evil.extend_from_slice(EICAR);
    // Text XML 1.0 cannot hold, in a file name the answers repeat.
    let r = env.upload(&evil, &[("filename", "a\u{1}b<&>\"'\r\n.exe")]);
    let task = r.data()["task_uuid"].as_str().unwrap().to_string();
    let res = env.get("/analysis/get.json", &[("uuid", &task)]).data();
    let report = res["reports"][0]["report_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let artifact = format!("{report}:primary_analysis_subject");
    let md5 = md5_hex(&evil);
    let url = "http://phish.example/x";
    env.post("/analysis/submit/url.json", &[("url", url)]);
    let ioc = env
        .post(
            "/analysis/ioc/create_ioc_from_result.json",
            &[
                ("uuid", &task),
                ("report_uuid", &report),
                ("report_version", "ioc:openioc"),
            ],
        )
        .data()["ioc_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    // An earlier export, so each export's answer names one to resume after.
    env.post(
        "/analysis/export_report.json",
        &[("uuid", &task), ("report_type", "OVERVIEW")],
    );
    let (k, t) = env.emu.credentials();
    fn p(v: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        v.iter().map(|(a, b)| (*a, b.to_string())).collect()
    }
    let params = |name: &str| -> (Vec<(&'static str, String)>, bool) {
        match name {
            "submit_file" => (p(&[("md5", &md5)]), false),
            "submit_url" => (p(&[("url", url)]), false),
            "get_results"
            | "get_result"
            | "get_result_activities"
            | "get_progress"
            | "get_task_metadata"
            | "get_network_iocs"
            | "get_analysis_tags"
            | "get_child_tasks_recursively" => (p(&[("uuid", &task)]), false),
            "get_report_activities" => (p(&[("uuid", &task), ("report_uuid", &report)]), false),
            "get_result_artifact" => (p(&[("uuid", &task), ("artifact_uuid", &artifact)]), false),
            "query_task_artifact" => (
                p(&[
                    ("uuid", &task),
                    ("artifact_name", "primary_analysis_subject"),
                ]),
                false,
            ),
            "get_completed" | "get_completed_with_metadata" => {
                (p(&[("after", "2000-01-01 00:00:00")]), false)
            }
            "query_file_hash" | "is_blocked_file_hash" => {
                (p(&[("hash_algorithm", "md5"), ("hash_value", &md5)]), false)
            }
            "get_ioc_metadata" => (p(&[("ioc_uuid", &ioc)]), false),
            "create_ioc_from_result" => (
                p(&[
                    ("uuid", &task),
                    ("report_uuid", &report),
                    ("report_version", "ioc:openioc"),
                ]),
                true,
            ),
            "export_report" => (p(&[("uuid", &task), ("report_type", "OVERVIEW")]), true),
            "is_risky_analysis_artifact" => (p(&[("artifact_uuid", &artifact)]), false),
            "login" => (p(&[("key", &k), ("api_token", &t)]), false),
            "get_pending" | "get_api_utc_timestamp" | "get_completed_exported_reports" | "ping" => {
                (vec![], false)
            }
            other => panic!("{other}: no parameters chosen for its XML check"),
        }
    };
    let catalog = catalog();
    let mut checked = 0;
    for m in catalog["methods"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        let formats: Vec<&str> = m["formats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        if !formats.contains(&"xml") {
            continue;
        }
        let path = m["path"].as_str().unwrap();
        let post = !m["http_methods"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h == "GET");
        let (owned, mutating) = params(name);
        let pairs: Vec<(&str, &str)> = owned.iter().map(|(a, b)| (*a, b.as_str())).collect();
        let ask = |suffix: &str| {
            let p = format!("{path}.{suffix}");
            if post {
                env.post(&p, &pairs)
            } else {
                env.get(&p, &pairs)
            }
        };
        let json = ask("json");
        let xml = ask("xml");
        assert_eq!((json.status, xml.status), (200, 200), "{name}");
        assert!(
            xml.header("content-type").unwrap().contains("xml"),
            "{name}"
        );
        let text = String::from_utf8(xml.body.clone()).unwrap();
        let doc = roxmltree::Document::parse(&text)
            .unwrap_or_else(|e| panic!("{name}: not XML ({e}): {text}"));
        assert_eq!(doc.root_element().tag_name().name(), "response", "{name}");
        let want = masked(from_json(&json.json()), mutating);
        let got = masked(from_xml(doc.root_element()), mutating);
        assert_eq!(got, want, "{name}: {text}");
        checked += 1;
    }
    // Every method that offers XML, as the SDK's table says.
    let offering = lastline_core::request::METHODS
        .iter()
        .filter(|m| m.offers_xml())
        .count();
    assert_eq!(checked, offering);
}

#[test]
fn a_failure_is_rendered_in_xml_too() {
    let env = Env::new(Config::default());
    let r = env.get("/analysis/get_result.xml", &[("uuid", &"0".repeat(32))]);
    let text = String::from_utf8(r.body).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let member = |n: &str| {
        doc.root_element()
            .children()
            .find(|c| c.has_tag_name(n))
            .and_then(|c| c.text())
            .map(str::to_string)
    };
    assert_eq!(member("success").as_deref(), Some("0"));
    assert!(
        member("error_code").is_some() && member("error").is_some(),
        "{text}"
    );
}

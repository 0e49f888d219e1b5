//! Every text a model can read (issue 17), files first: multipart uploads to the Files API and
//! inline documents in JSON are read through their extractors (text, PDF, DOCX, zip), through
//! CONNECT and the gateway. A secret in a file is blocked and the upstream never receives it;
//! clean files pass byte for byte; a file that cannot be read follows `on_uninspectable`; and
//! hostile files (bombs, too many parts) get a bounded, clear answer.

mod common;

use common::*;
use load_tests::mock::MockConfig;
use promptwall::extract::samples::{docx_with, pdf_with, zip_of};

const SECRET: &str = "AKIAQWERTYUIOPASDFGH";
const PARTS: usize = 10_000;

/// A Files API upload: `purpose` and one file, as the OpenAI SDKs send it.
fn upload(name: &str, bytes: Vec<u8>) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("purpose", "assistants")
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes)
                .file_name(name.to_string())
                .mime_str("application/octet-stream")
                .unwrap(),
        )
}

fn b64(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_with_a_secret_are_blocked_and_clean_ones_pass_byte_for_byte() {
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_d, yaml) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let proxy = Proxy::start(&yaml).await;
    let connect = proxy.client(&[&proxy.ca_pem]);
    let gateway = reqwest::Client::builder().no_proxy().build().unwrap();
    let gw = format!("http://{}/openai", proxy.gateway);
    let secret_files: Vec<(&str, Vec<u8>)> = vec![
        (
            "keys.yaml",
            format!("aws_access_key_id: {SECRET}\n").into_bytes(),
        ),
        (
            "report.pdf",
            pdf_with(&["Quarterly report", &format!("deploy key {SECRET}")]),
        ),
        (
            "notes.docx",
            docx_with(&["Meeting notes", &format!("use {SECRET} for the bucket")]),
        ),
        (
            "bundle.zip",
            zip_of(&[("src/config.env", format!("AWS_KEY={SECRET}").as_bytes())]),
        ),
    ];
    for (name, bytes) in &secret_files {
        for (path, client, base) in [
            ("CONNECT", &connect, "https://api.openai.com"),
            ("gateway", &gateway, gw.as_str()),
        ] {
            let r = client
                .post(format!("{base}/v1/files"))
                .multipart(upload(name, bytes.clone()))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{name} through {path}");
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "promptwall_policy_block", "{body}");
        }
    }
    assert!(mock.received().is_empty(), "the upstream saw a secret file");
    // The audit log names the part and where in the file, never the value.
    let events = proxy.audit_events(&["--kind", "ai_request"]);
    assert_eq!(events.len(), 2 * secret_files.len());
    let raw = serde_json::to_string(&events).unwrap();
    assert!(!raw.contains(SECRET));
    assert!(events.iter().all(|e| e["decision"] == "block"), "{raw}");

    // Clean files of each kind pass, byte for byte.
    let clean: Vec<(&str, Vec<u8>)> = vec![
        ("readme.md", b"# Plan\nShip on Friday.\n".to_vec()),
        ("plan.pdf", pdf_with(&["Ship on Friday."])),
        ("plan.docx", docx_with(&["Ship on Friday."])),
    ];
    for (i, (name, bytes)) in clean.iter().enumerate() {
        let form = upload(name, bytes.clone());
        let boundary = form.boundary().to_string();
        let r = connect
            .post("https://api.openai.com/v1/files")
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{name}");
        let up = &mock.received()[i];
        assert!(
            up.body.windows(bytes.len()).any(|w| w == bytes.as_slice()),
            "{name}: the file arrived changed"
        );
        assert!(up
            .headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.contains(&boundary)));
    }
}

/// Gemini's upload protocol sends the file as the raw body of its own request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_and_parts_that_share_a_name_are_each_redacted_in_place() {
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_d, yaml) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let proxy = Proxy::start(&yaml).await;
    let client = proxy.client(&[&proxy.ca_pem]);
    let url = "https://api.openai.com/v1/chat/completions";
    let email = "ana.ruiz@globex-corp.com";
    // The second `prompt` carries the address; many frameworks read the last value.
    let r = client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "prompt=hi&prompt=mail+{}",
            email.replace('@', "%40")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let form = mock.received()[0].body.clone();
    let fields: Vec<(String, String)> = form_urlencoded::parse(&form).into_owned().collect();
    assert_eq!(fields.len(), 2, "{fields:?}");
    assert_eq!(fields[0], ("prompt".into(), "hi".into()), "{fields:?}");
    assert!(
        fields[1].0 == "prompt"
            && !fields[1].1.contains("globex")
            && fields[1].1.starts_with("mail "),
        "{fields:?}"
    );
    // The same with two multipart parts of one name.
    let parts = reqwest::multipart::Form::new()
        .text("prompt", "hi")
        .text("prompt", format!("mail {email}"));
    let r = client.post(url).multipart(parts).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let body = String::from_utf8_lossy(&mock.received()[1].body).into_owned();
    assert!(!body.contains("globex"), "{body}");
    assert!(
        body.contains("\r\n\r\nhi\r\n"),
        "the first part is untouched: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_file_upload_is_read_by_its_content() {
    let host = "generativelanguage.googleapis.com";
    let (mock, pem) = tls_mock(&[host], MockConfig::default()).await;
    let (_d, yaml) = upstream_yaml(&pem, mock.addr, &[host]);
    let proxy = Proxy::start(&yaml).await;
    let c = proxy.client(&[&proxy.ca_pem]);
    let url = format!("https://{host}/upload/v1beta/files?upload_id=u1&upload_protocol=resumable");
    let send = |bytes: Vec<u8>| {
        c.post(&url)
            .header("x-goog-upload-command", "upload, finalize")
            .header("x-goog-upload-offset", "0")
            .header("content-type", "application/pdf")
            .body(bytes)
            .send()
    };
    let r = send(pdf_with(&["page one", &format!("secret {SECRET}")]))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(mock.received().is_empty());
    let clean = pdf_with(&["Ship on Friday."]);
    let r = send(clean.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(&mock.received()[0].body[..], &clean[..]);
    // A redaction in a header leaves the file as it was (it used to go up empty).
    let r = c
        .post(&url)
        .header("content-type", "application/pdf")
        .header("x-note", "from ana.ruiz@globex-corp.com")
        .body(clean.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let got = &mock.received()[1];
    assert_eq!(&got.body[..], &clean[..]);
    let note = got.headers.iter().find(|(k, _)| k == "x-note").unwrap();
    assert!(!note.1.contains("globex"), "{note:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_documents_in_json_are_read_through_their_text() {
    let bedrock = "bedrock-runtime.us-east-1.amazonaws.com";
    let hosts = ["api.anthropic.com", "api.openai.com", bedrock];
    let (mock, pem) = tls_mock(&hosts, MockConfig::default()).await;
    let (_d, yaml) = upstream_yaml(&pem, mock.addr, &hosts);
    let proxy = Proxy::start(&yaml).await;
    let c = proxy.client(&[&proxy.ca_pem]);
    let pdf = pdf_with(&[&format!("token {SECRET}")]);
    let anthropic = serde_json::json!({
        "model": "claude-sonnet-4-5", "max_tokens": 100,
        "messages": [{"role": "user", "content": [
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": b64(&pdf)}},
            {"type": "text", "text": "Summarise this."}
        ]}]
    });
    let r = c
        .post("https://api.anthropic.com/v1/messages")
        .json(&anthropic)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let docx = docx_with(&[&format!("key {SECRET}")]);
    let openai = serde_json::json!({
        "model": "gpt-4o",
        "input": [{"role": "user", "content": [
            {"type": "input_file", "filename": "n.docx", "file_data": format!("data:application/vnd.openxmlformats-officedocument.wordprocessingml.document;base64,{}", b64(&docx))}
        ]}]
    });
    let r = c
        .post("https://api.openai.com/v1/responses")
        .json(&openai)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Bedrock's Converse document blocks: a PDF's and a DOCX's text is read too.
    for (format, bytes) in [("pdf", &pdf), ("docx", &docx)] {
        let converse = serde_json::json!({"messages": [{"role": "user", "content": [
            {"text": "Summarise this."},
            {"document": {"format": format, "name": "d", "source": {"bytes": b64(bytes)}}}
        ]}]});
        let r = c
            .post(format!(
                "https://{bedrock}/model/anthropic.claude-3-5-sonnet/converse"
            ))
            .json(&converse)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{format}");
    }
    assert!(mock.received().is_empty());
    // A clean inline PDF passes; an image part is coverage, not a reason to block.
    let clean = serde_json::json!({
        "model": "claude-sonnet-4-5", "max_tokens": 100,
        "messages": [{"role": "user", "content": [
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": b64(&pdf_with(&["Ship on Friday."]))}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "text", "text": "Summarise this."}
        ]}]
    });
    let r = c
        .post("https://api.anthropic.com/v1/messages")
        .json(&clean)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_and_hostile_files_get_a_bounded_clear_answer() {
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_d, upstream) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let policies = TempDir::new("files-uninspectable");
    std::fs::write(
        policies.0.join("lenient.yaml"),
        "tenant: lenient\non_uninspectable: log\nrules:\n  - {id: keys, when: {category: secret}, action: block}\n  - {id: pii, when: {category: pii}, action: redact}\n",
    )
    .unwrap();
    let hash = policy::SecretHash::create("s");
    let proxy = Proxy::start(&format!(
        "{upstream}policies:\n  dir: {}\nauth:\n  credentials:\n    - {{ username: l, secret_hash: \"{hash}\", tenant: lenient }}\n",
        policies.0.display()
    ))
    .await;
    let strict = proxy.client(&[&proxy.ca_pem]);
    let lenient = proxy.client_as("l", "s");
    let url = "https://api.openai.com/v1/files";
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01".to_vec();
    let bomb = zip_of(&[("zeros.txt", &vec![b'0'; 100 << 20])]);
    let many = (0..PARTS).fold(reqwest::multipart::Form::new(), |f, i| {
        f.text(format!("f{i}"), "x")
    });
    // The default policy blocks what it cannot read.
    for (name, bytes) in [("photo.png", png.clone()), ("bomb.zip", bomb.clone())] {
        let r = strict.post(url).multipart(upload(name, bytes)).send().await;
        let r = r.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(r.status(), 403, "{name}");
    }
    let r = strict.post(url).multipart(many).send().await;
    let r = r.unwrap_or_else(|e| panic!("{e:?}\n{}", proxy.log()));
    assert_eq!(r.status(), 403, "10,000 parts");
    let events = proxy.audit_events(&["--kind", "ai_request"]);
    let rules: Vec<&str> = events
        .iter()
        .map(|e| e["reasons"][0]["rule"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(rules, ["on_uninspectable:block"; 3], "{events:#?}");
    assert!(mock.received().is_empty());
    // A tenant that allows it logs the image and passes it; a secret still blocks.
    let r = lenient
        .post(url)
        .multipart(upload("photo.png", png))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let with_secret = zip_of(&[
        ("photo.png", b"\x89PNG\r\n\x1a\n".as_slice()),
        ("keys.txt", SECRET.as_bytes()),
    ]);
    let r = lenient
        .post(url)
        .multipart(upload("mixed.zip", with_secret))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a secret beside an unreadable part");
    // Personal data in an uploaded text file is redacted in the file, which goes up in a
    // re-encoded body with the same boundary; in a PDF it cannot be rewritten, so the
    // tenant's redaction fallback (block by default) applies, and says why.
    let form = upload("cc.txt", b"mail ana.ruiz@globex-corp.com\n".to_vec());
    let boundary = form.boundary().to_string();
    let r = lenient.post(url).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let up = &mock.received()[1];
    let parts = promptwall::extract::multipart::parse(
        &format!("multipart/form-data; boundary={boundary}"),
        up.body.clone(),
        10,
    )
    .unwrap();
    assert_eq!(parts[0].data, "assistants");
    let file = String::from_utf8_lossy(&parts[1].data).to_string();
    assert!(
        !file.contains("ana.ruiz") && file.starts_with("mail "),
        "{file}"
    );
    let r = lenient
        .post(url)
        .multipart(upload(
            "cc.pdf",
            pdf_with(&["mail ana.ruiz@globex-corp.com"]),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let text = r.text().await.unwrap();
    assert!(text.contains("cannot be modified"), "{text}");
    assert_eq!(
        mock.received().len(),
        2,
        "the logged image and the redacted file went up"
    );
}

//! Compressed request and response bodies: inspected decoded, and what each side receives stays
//! valid.

mod common;

use common::*;
use load_tests::mock::MockConfig;
use std::io::Write;

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

const URL: &str = "https://api.openai.com/v1/chat/completions";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_bodies_are_inspected_and_stay_valid() {
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_d, yaml) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let proxy = Proxy::start(&yaml).await;
    let client = proxy.client(&[&proxy.ca_pem]);
    let post = |body: Vec<u8>, enc: &'static str| {
        client
            .post(URL)
            .header("content-type", "application/json")
            .header("content-encoding", enc)
            .body(body)
    };

    // A secret inside a gzip body is found.
    let secret = serde_json::to_vec(&chat("key AKIAQWERTYUIOPASDFGH", false)).unwrap();
    assert_eq!(
        post(gzip(&secret), "gzip").send().await.unwrap().status(),
        403
    );
    assert!(mock.received().is_empty());

    // A clean gzip body is forwarded exactly as sent.
    let clean = gzip(&serde_json::to_vec(&chat("hello there", false)).unwrap());
    assert_eq!(
        post(clean.clone(), "gzip").send().await.unwrap().status(),
        200
    );
    let got = mock.received();
    assert_eq!(&got[0].body[..], &clean[..]);
    assert!(got[0]
        .headers
        .iter()
        .any(|(k, v)| k == "content-encoding" && v == "gzip"));

    // A rewritten body goes up plain, without the client's content-encoding.
    let pii =
        gzip(&serde_json::to_vec(&chat("mail ana.ruiz@globex-corp.com please", false)).unwrap());
    let r = post(pii, "gzip")
        .header("x-mock-echo", "1")
        .header("x-mock-gzip", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers().get("content-encoding").is_none(),
        "the restored response is sent plain"
    );
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        v["choices"][0]["message"]["content"], "mail ana.ruiz@globex-corp.com please",
        "the gzip response was decoded and restored"
    );
    let got = mock.received();
    let sent: serde_json::Value =
        serde_json::from_slice(&got[1].body).expect("plain JSON upstream");
    assert_eq!(sent["messages"][1]["content"], "mail <EMAIL_1> please");
    assert!(!got[1].headers.iter().any(|(k, _)| k == "content-encoding"));

    // Unknown, corrupt and bomb-sized encodings get clear errors.
    assert_eq!(
        post(b"x".to_vec(), "compress")
            .send()
            .await
            .unwrap()
            .status(),
        415
    );
    assert_eq!(
        post(b"not gzip".to_vec(), "gzip")
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    let bomb = gzip(&vec![b' '; 20 << 20]);
    assert_eq!(post(bomb, "gzip").send().await.unwrap().status(), 413);
    assert_eq!(
        mock.received().len(),
        2,
        "none of the bad ones reached the upstream"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_stream_is_decoded_as_it_flows_inspected_and_restored() {
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_d, yaml) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    let proxy = Proxy::start(&yaml).await;
    let client = proxy.client(&[&proxy.ca_pem]);
    // Pseudonyms are issued, so PromptWall asks for an uncompressed answer; this upstream
    // compresses its stream anyway: PromptWall decodes it as it flows.
    let r = client
        .post(URL)
        .header("x-mock-echo", "1")
        .header("x-mock-gzip", "1")
        .json(&chat("mail ana.ruiz@globex-corp.com please", true))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers().get("content-encoding").is_none(),
        "sent on decoded"
    );
    let body = r.text().await.unwrap();
    assert!(
        body.contains("ana.ruiz@globex-corp.com") && !body.contains("<EMAIL_1>"),
        "the pseudonym was restored in the decoded stream: {body}"
    );
    // A secret in a compressed stream is cut like in a plain one, through CONNECT and the
    // gateway alike.
    let gateway = reqwest::Client::builder().no_proxy().build().unwrap();
    let gw = format!("http://{}/openai/v1/chat/completions", proxy.gateway);
    for (client, url) in [(&client, URL), (&gateway, gw.as_str())] {
        let r = client
            .post(url)
            .header(
                "x-mock-reply-mirror",
                reversed("the deploy key is AKIAQWERTYUIOPASDFGH ok"),
            )
            .header("x-mock-gzip", "1")
            .json(&chat("hello", true))
            .send()
            .await
            .unwrap();
        let body = r.text().await.unwrap();
        assert!(
            !body.contains("AKIA") && body.contains("error"),
            "{url}: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_content_encoding_line_is_undone_too() {
    let (mock, pem) = tls_mock(&["api.openai.com"], MockConfig::default()).await;
    let (_d, yaml) = upstream_yaml(&pem, mock.addr, &["api.openai.com"]);
    // A tenant that lets unreadable bodies through: a body read as unreadable would pass.
    let (_p, policies) = policies_yaml(&[(
        "default",
        "tenant: default\non_uninspectable: log\nrules:\n  - {id: keys, when: {category: secret}, action: block}\n",
    )]);
    let proxy = Proxy::start(&format!("{yaml}{policies}")).await;
    let client = proxy.client(&[&proxy.ca_pem]);
    // `identity` then `gzip` on two lines: the provider decodes the gzip, so PromptWall must.
    let secret = serde_json::to_vec(&chat("key AKIAQWERTYUIOPASDFGH", false)).unwrap();
    let r = client
        .post(URL)
        .header("content-type", "application/json")
        .header("content-encoding", "identity")
        .header("content-encoding", "gzip")
        .body(gzip(&secret))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(mock.received().is_empty());
    // The same from the upstream: the answer is decoded, read and its secret blocked.
    let r = client
        .post(URL)
        .header(
            "x-mock-reply-mirror",
            reversed("the key is AKIAQWERTYUIOPASDFGH"),
        )
        .header("x-mock-gzip", "1")
        .header("x-mock-leading-encoding", "identity")
        .json(&chat("tell me", false))
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert!(text.contains("policy_violation"), "{text}");
}

//! Many concurrent SSE streams: time to first token and the delay between tokens, as the client
//! sees them. Used by `pw-load` to compare streaming direct to the mock and through PromptWall.

use hdrhistogram::Histogram;
use std::time::{Duration, Instant};

/// What one batch of concurrent streams measured (microseconds in the histograms).
pub struct StreamOutcome {
    pub ok: usize,
    pub errors: usize,
    /// Request sent → first `data:` event.
    pub ttft: Histogram<u64>,
    /// Gap between consecutive `data:` events of one stream.
    pub gap: Histogram<u64>,
    /// `data:` events received per completed stream (checks nothing was lost).
    pub events: Histogram<u64>,
    pub elapsed: Duration,
}

/// The shape of one streaming request.
#[derive(Clone)]
pub struct StreamSpec {
    pub url: String,
    pub body: Vec<u8>,
    /// Tokens the mock streams per answer (`x-mock-tokens`).
    pub tokens: usize,
    /// Milliseconds the mock waits between tokens (`x-mock-delay-ms`).
    pub delay_ms: u64,
}

/// Starts `streams` requests evenly over `ramp` and waits (at most `deadline` each) for all of
/// them. With `ramp` shorter than one answer, every stream is open at the peak.
pub async fn run(
    client: &reqwest::Client,
    spec: &StreamSpec,
    streams: usize,
    ramp: Duration,
    deadline: Duration,
) -> StreamOutcome {
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(streams);
    let step = ramp / streams.max(1) as u32;
    for i in 0..streams {
        let (client, spec) = (client.clone(), spec.clone());
        let at = tokio::time::Instant::from_std(started) + step * i as u32;
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(at).await;
            tokio::time::timeout(deadline, one(&client, &spec))
                .await
                .ok()
                .flatten()
        }));
    }
    let mut out = StreamOutcome {
        ok: 0,
        errors: 0,
        ttft: Histogram::new(3).expect("histogram"),
        gap: Histogram::new(3).expect("histogram"),
        events: Histogram::new(3).expect("histogram"),
        elapsed: Duration::ZERO,
    };
    for t in tasks {
        match t.await.ok().flatten() {
            Some((ttft, gaps, events)) => {
                out.ok += 1;
                let _ = out.ttft.record(ttft);
                for g in gaps {
                    let _ = out.gap.record(g);
                }
                let _ = out.events.record(events);
            }
            None => out.errors += 1,
        }
    }
    out.elapsed = started.elapsed();
    out
}

/// One stream: (time to first event, gaps between events, event count), or `None` on any
/// error (status, transport, or a stream that ends without `[DONE]`).
async fn one(client: &reqwest::Client, spec: &StreamSpec) -> Option<(u64, Vec<u64>, u64)> {
    let t = Instant::now();
    let mut r = client
        .post(&spec.url)
        .header("content-type", "application/json")
        .header("x-mock-tokens", spec.tokens.to_string())
        .header("x-mock-delay-ms", spec.delay_ms.to_string())
        .body(spec.body.clone())
        .send()
        .await
        .ok()?;
    if r.status() != 200 {
        return None;
    }
    let mut buf: Vec<u8> = Vec::new();
    let (mut first, mut last, mut gaps, mut events, mut done) =
        (None, None::<Instant>, Vec::new(), 0u64, false);
    while let Some(chunk) = r.chunk().await.ok()? {
        let now = Instant::now();
        buf.extend_from_slice(&chunk);
        // Complete events end with a blank line.
        while let Some(end) = find_event_end(&buf) {
            let event: Vec<u8> = buf.drain(..end).collect();
            let text = String::from_utf8_lossy(&event);
            for line in text.lines() {
                let Some(data) = line.strip_prefix("data:") else {
                    continue;
                };
                if data.trim() == "[DONE]" {
                    done = true;
                    continue;
                }
                events += 1;
                if first.is_none() {
                    first = Some(now.duration_since(t).as_micros() as u64);
                }
                if let Some(prev) = last {
                    gaps.push(now.duration_since(prev).as_micros() as u64);
                }
                last = Some(now);
            }
        }
    }
    (done && events > 0).then(|| (first.unwrap_or(0), gaps, events))
}

/// Byte index just past the first `\n\n` (or `\r\n\r\n`) in `buf`.
fn find_event_end(buf: &[u8]) -> Option<usize> {
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_on_blank_lines_in_either_line_ending() {
        assert_eq!(find_event_end(b"data: a\n\ndata: b"), Some(9));
        assert_eq!(find_event_end(b"data: a\r\n\r\n"), Some(11));
        assert_eq!(find_event_end(b"data: a\n"), None);
    }
}

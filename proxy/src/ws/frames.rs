//! WebSocket frames (RFC 6455) as they cross the proxy: headers parsed with tungstenite's
//! `FrameHeader`, payloads unmasked to read them, text messages reassembled from their
//! fragments (bounded) so each is inspected whole before any of its frames is forwarded.

use bytes::{Bytes, BytesMut};
use std::io::Cursor;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::FrameHeader;

/// What a run of bytes from one side holds, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// Frames to pass on as they are: control frames, and binary messages (audio), which are
    /// not read.
    Pass { raw: Bytes, binary: bool },
    /// A whole text message: the bytes of all its frames, and its text.
    Text { raw: Bytes, text: String },
}

/// Why a stream of frames cannot be relayed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FrameError {
    #[error("malformed WebSocket frame")]
    Malformed,
    #[error("WebSocket message larger than {0} bytes")]
    TooLarge(usize),
    #[error("compressed WebSocket frame (no extension was negotiated through PromptWall)")]
    Compressed,
    #[error("text message that is not UTF-8")]
    NotUtf8,
}

/// The text message being reassembled from fragments.
struct Partial {
    raw: BytesMut,
    payload: Vec<u8>,
}

/// Reads the frames of one direction.
pub struct FrameReader {
    buf: BytesMut,
    text: Option<Partial>,
    /// A binary message is in progress: its continuations pass too.
    binary: bool,
    max_message: usize,
}

impl FrameReader {
    /// A reader that refuses messages over `max_message` bytes.
    pub fn new(max_message: usize) -> Self {
        FrameReader {
            buf: BytesMut::new(),
            text: None,
            binary: false,
            max_message,
        }
    }

    /// Takes bytes as they arrive; returns the items they complete.
    pub fn push(&mut self, data: &[u8]) -> Result<Vec<Item>, FrameError> {
        self.buf.extend_from_slice(data);
        let mut out = Vec::new();
        loop {
            let mut cursor = Cursor::new(&self.buf[..]);
            let Some((header, len)) =
                FrameHeader::parse(&mut cursor).map_err(|_| FrameError::Malformed)?
            else {
                break;
            };
            let held = self.text.as_ref().map_or(0, |p| p.payload.len());
            if len as usize > self.max_message || held + len as usize > self.max_message {
                return Err(FrameError::TooLarge(self.max_message));
            }
            let start = cursor.position() as usize;
            let total = start + len as usize;
            if self.buf.len() < total {
                break;
            }
            let frame = self.buf.split_to(total).freeze();
            if header.rsv1 || header.rsv2 || header.rsv3 {
                return Err(FrameError::Compressed);
            }
            let mut payload = frame[start..].to_vec();
            if let Some(mask) = header.mask {
                unmask(&mut payload, mask);
            }
            match header.opcode {
                OpCode::Control(_) => out.push(Item::Pass {
                    raw: frame,
                    binary: false,
                }),
                OpCode::Data(Data::Binary) if self.text.is_none() && !self.binary => {
                    self.binary = !header.is_final;
                    out.push(Item::Pass {
                        raw: frame,
                        binary: true,
                    });
                }
                OpCode::Data(Data::Text) if self.text.is_none() && !self.binary => {
                    let mut raw = BytesMut::from(&frame[..]);
                    if header.is_final {
                        out.push(text_item(raw.split().freeze(), payload)?);
                    } else {
                        self.text = Some(Partial { raw, payload });
                    }
                }
                OpCode::Data(Data::Continue) if self.binary => {
                    self.binary = !header.is_final;
                    out.push(Item::Pass {
                        raw: frame,
                        binary: true,
                    });
                }
                OpCode::Data(Data::Continue) => {
                    let Some(partial) = self.text.as_mut() else {
                        return Err(FrameError::Malformed);
                    };
                    partial.raw.extend_from_slice(&frame);
                    partial.payload.extend_from_slice(&payload);
                    if header.is_final {
                        let p = self.text.take().expect("checked above");
                        out.push(text_item(p.raw.freeze(), p.payload)?);
                    }
                }
                _ => return Err(FrameError::Malformed),
            }
        }
        Ok(out)
    }
}

fn text_item(raw: Bytes, payload: Vec<u8>) -> Result<Item, FrameError> {
    let text = String::from_utf8(payload).map_err(|_| FrameError::NotUtf8)?;
    Ok(Item::Text { raw, text })
}

fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
}

/// One text frame holding `text`: masked (with a fresh random key) when it goes to the
/// server, as RFC 6455 requires of clients; unmasked to the client.
pub fn text_frame(text: &str, to_server: bool) -> Bytes {
    let mask = to_server.then(|| {
        let mut key = [0u8; 4];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key);
        key
    });
    let header = FrameHeader {
        is_final: true,
        opcode: OpCode::Data(Data::Text),
        mask,
        ..FrameHeader::default()
    };
    let mut out = Vec::with_capacity(text.len() + 14);
    header
        .format(text.len() as u64, &mut out)
        .expect("writing to a Vec cannot fail");
    let start = out.len();
    out.extend_from_slice(text.as_bytes());
    if let Some(m) = mask {
        unmask(&mut out[start..], m);
    }
    Bytes::from(out)
}

/// A close frame (status 1008, policy violation) to either side.
pub fn close_frame(to_server: bool, reason: &str) -> Bytes {
    let mut payload = 1008u16.to_be_bytes().to_vec();
    payload.extend_from_slice(&reason.as_bytes()[..reason.len().min(120)]);
    let mask = to_server.then_some([0x5a, 0x1c, 0x33, 0x7e]);
    let header = FrameHeader {
        is_final: true,
        opcode: OpCode::Control(tungstenite::protocol::frame::coding::Control::Close),
        mask,
        ..FrameHeader::default()
    };
    let mut out = Vec::new();
    header
        .format(payload.len() as u64, &mut out)
        .expect("writing to a Vec cannot fail");
    if let Some(m) = mask {
        unmask(&mut payload, m);
    }
    out.extend_from_slice(&payload);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(opcode: OpCode, fin: bool, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
        let h = FrameHeader {
            is_final: fin,
            opcode,
            mask,
            ..FrameHeader::default()
        };
        let mut out = Vec::new();
        h.format(payload.len() as u64, &mut out).unwrap();
        let mut p = payload.to_vec();
        if let Some(m) = mask {
            unmask(&mut p, m);
        }
        out.extend(p);
        out
    }

    #[test]
    fn fragments_become_one_text_message_and_controls_pass_between_them() {
        let m = Some([1, 2, 3, 4]);
        let mut bytes = frame(OpCode::Data(Data::Text), false, b"{\"a\":", m);
        bytes.extend(frame(
            OpCode::Control(tungstenite::protocol::frame::coding::Control::Ping),
            true,
            b"p",
            m,
        ));
        bytes.extend(frame(OpCode::Data(Data::Continue), true, b"1}", m));
        bytes.extend(frame(OpCode::Data(Data::Binary), true, &[0, 1, 2], m));
        let mut r = FrameReader::new(1 << 20);
        let mut items = Vec::new();
        // Byte by byte: nothing is lost at any cut.
        for b in &bytes {
            items.extend(r.push(std::slice::from_ref(b)).unwrap());
        }
        assert_eq!(items.len(), 3);
        assert!(matches!(&items[0], Item::Pass { binary: false, .. }));
        match &items[1] {
            Item::Text { text, raw } => {
                assert_eq!(text, "{\"a\":1}");
                assert_eq!(raw.len(), bytes.len() - 7 - 9, "both text frames, as sent");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&items[2], Item::Pass { binary: true, .. }));
    }

    #[test]
    fn frames_written_here_read_back() {
        let mut r = FrameReader::new(1 << 20);
        let items = r.push(&text_frame("héllo", true)).unwrap();
        assert!(matches!(&items[0], Item::Text { text, .. } if text == "héllo"));
        let items = r.push(&text_frame("plain", false)).unwrap();
        assert!(matches!(&items[0], Item::Text { text, .. } if text == "plain"));
    }

    #[test]
    fn oversized_compressed_and_broken_frames_are_refused() {
        let mut r = FrameReader::new(8);
        assert_eq!(
            r.push(&frame(OpCode::Data(Data::Text), true, b"0123456789", None)),
            Err(FrameError::TooLarge(8))
        );
        let mut f = frame(OpCode::Data(Data::Text), true, b"x", None);
        f[0] |= 0x40;
        assert_eq!(FrameReader::new(8).push(&f), Err(FrameError::Compressed));
        assert_eq!(
            FrameReader::new(8).push(&frame(OpCode::Data(Data::Continue), true, b"x", None)),
            Err(FrameError::Malformed)
        );
        // A 100 MB frame is refused from its header, before its payload arrives.
        let mut big = Vec::new();
        FrameHeader {
            opcode: OpCode::Data(Data::Binary),
            ..FrameHeader::default()
        }
        .format(100 << 20, &mut big)
        .unwrap();
        assert_eq!(
            FrameReader::new(1 << 20).push(&big),
            Err(FrameError::TooLarge(1 << 20))
        );
    }
}

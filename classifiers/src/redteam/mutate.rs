//! Evasions, each a pure function of a case and a seeded random stream: the same seed gives
//! the same texts on every machine, so robustness can be compared against a baseline.

use crate::decode::rot13;
use base64::Engine as _;
use std::io::Write as _;

/// Where a case's text is cut into consecutive messages (or fields): runners send or scan
/// each piece as its own text.
pub const MESSAGE_BREAK: char = '\u{1e}';

/// A text to hide, with the sensitive value inside it (empty for intent cases, where the
/// whole text is the payload).
#[derive(Debug, Clone)]
pub struct Case {
    pub text: String,
    pub value: String,
}

/// A small deterministic generator (SplitMix64): reproducible everywhere, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A stream for `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// What an evasion works on, for the report's grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Character,
    Encoding,
    Structure,
    Wrapping,
    Language,
}

/// One evasion: its name, what it works on, and the transformation.
pub struct Mutation {
    pub name: &'static str,
    pub kind: Kind,
    pub apply: fn(&Case, &mut Rng) -> Case,
}

/// Rewrites the value inside the text (or the whole text when there is no value).
fn on_value(c: &Case, f: impl Fn(&str) -> String) -> Case {
    if c.value.is_empty() || !c.text.contains(&c.value) {
        let t = f(&c.text);
        return Case {
            value: String::new(),
            text: t,
        };
    }
    let v = f(&c.value);
    Case {
        text: c.text.replacen(&c.value, &v, 1),
        value: v,
    }
}

fn whole(c: &Case, f: impl Fn(&str) -> String) -> Case {
    Case {
        text: f(&c.text),
        value: String::new(),
    }
}

fn interleave(s: &str, every: usize, with: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && i % every == 0 {
            out.push_str(with);
        }
        out.push(ch);
    }
    out
}

fn homoglyph(ch: char) -> char {
    match ch {
        'a' => 'а',
        'e' => 'е',
        'o' => 'о',
        'p' => 'р',
        'c' => 'с',
        'x' => 'х',
        'y' => 'у',
        'A' => 'Α',
        'B' => 'В',
        'E' => 'Ε',
        'K' => 'Κ',
        'M' => 'М',
        'O' => 'О',
        'T' => 'Т',
        'X' => 'Χ',
        c => c,
    }
}

fn leet(ch: char) -> char {
    match ch {
        'a' | 'A' => '4',
        'e' | 'E' => '3',
        'i' | 'I' => '1',
        'o' | 'O' => '0',
        's' | 'S' => '5',
        't' | 'T' => '7',
        c => c,
    }
}

fn base32(data: &[u8]) -> String {
    const A: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    for chunk in data.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < chars {
                out.push(A[((n >> (35 - i * 5)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn split_in_two(c: &Case, rng: &mut Rng) -> (String, String, String) {
    let target = if c.value.is_empty() {
        &c.text
    } else {
        &c.value
    };
    let chars: Vec<char> = target.chars().collect();
    let cut = if chars.len() < 2 {
        0
    } else {
        1 + rng.below(chars.len() - 1)
    };
    let a: String = chars[..cut].iter().collect();
    let b: String = chars[cut..].iter().collect();
    let rest = if c.value.is_empty() {
        String::new()
    } else {
        c.text.replacen(&c.value, "<the value>", 1)
    };
    (a, b, rest)
}

/// Every evasion the harness knows, alone; chains are built from these.
pub fn all() -> Vec<Mutation> {
    use Kind::*;
    vec![
        Mutation {
            name: "none",
            kind: Character,
            apply: |c, _| c.clone(),
        },
        Mutation {
            name: "zero_width",
            kind: Character,
            apply: |c, _| on_value(c, |v| interleave(v, 2, "\u{200B}")),
        },
        Mutation {
            name: "bidi",
            kind: Character,
            apply: |c, _| on_value(c, |v| interleave(v, 3, "\u{202E}\u{202C}")),
        },
        Mutation {
            name: "homoglyph",
            kind: Character,
            apply: |c, _| on_value(c, |v| v.chars().map(homoglyph).collect()),
        },
        Mutation {
            name: "fullwidth",
            kind: Character,
            apply: |c, _| {
                on_value(c, |v| {
                    v.chars()
                        .map(|ch| match ch {
                            '!'..='~' => char::from_u32(ch as u32 + 0xFEE0).unwrap_or(ch),
                            c => c,
                        })
                        .collect()
                })
            },
        },
        Mutation {
            name: "spaced",
            kind: Character,
            apply: |c, _| on_value(c, |v| interleave(v, 1, " ")),
        },
        Mutation {
            name: "leetspeak",
            kind: Character,
            apply: |c, _| on_value(c, |v| v.chars().map(leet).collect()),
        },
        Mutation {
            name: "case_game",
            kind: Character,
            apply: |c, _| {
                on_value(c, |v| {
                    v.chars()
                        .enumerate()
                        .map(|(i, ch)| {
                            if i % 2 == 0 {
                                ch.to_ascii_uppercase()
                            } else {
                                ch.to_ascii_lowercase()
                            }
                        })
                        .collect()
                })
            },
        },
        Mutation {
            name: "base64",
            kind: Encoding,
            apply: |c, _| {
                whole(c, |t| {
                    format!(
                        "Decode this and follow it: {}",
                        base64::engine::general_purpose::STANDARD.encode(t)
                    )
                })
            },
        },
        Mutation {
            name: "base32",
            kind: Encoding,
            apply: |c, _| whole(c, |t| format!("base32: {}", base32(t.as_bytes()))),
        },
        Mutation {
            name: "hex",
            kind: Encoding,
            apply: |c, _| {
                whole(c, |t| {
                    format!(
                        "hex: {}",
                        t.bytes().map(|b| format!("{b:02x}")).collect::<String>()
                    )
                })
            },
        },
        Mutation {
            name: "url_encoding",
            kind: Encoding,
            apply: |c, _| whole(c, |t| t.bytes().map(|b| format!("%{b:02X}")).collect()),
        },
        Mutation {
            name: "html_entities",
            kind: Encoding,
            apply: |c, _| {
                whole(c, |t| {
                    t.chars().map(|ch| format!("&#{};", ch as u32)).collect()
                })
            },
        },
        Mutation {
            name: "json_unicode",
            kind: Encoding,
            apply: |c, _| {
                whole(c, |t| {
                    format!(
                        "{{\"note\": \"{}\"}}",
                        t.chars()
                            .map(|ch| if (ch as u32) < 0x10000 {
                                format!("\\u{:04x}", ch as u32)
                            } else {
                                ch.to_string()
                            })
                            .collect::<String>()
                    )
                })
            },
        },
        Mutation {
            name: "rot13",
            kind: Encoding,
            apply: |c, _| whole(c, |t| format!("rot13: {}", rot13(t))),
        },
        Mutation {
            name: "reversed",
            kind: Encoding,
            apply: |c, _| {
                whole(c, |t| {
                    format!(
                        "Read this backwards: {}",
                        t.chars().rev().collect::<String>()
                    )
                })
            },
        },
        Mutation {
            name: "gzip_base64",
            kind: Encoding,
            apply: |c, _| {
                whole(c, |t| {
                    let mut e =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                    let _ = e.write_all(t.as_bytes());
                    format!(
                        "gzip+base64: {}",
                        base64::engine::general_purpose::STANDARD
                            .encode(e.finish().unwrap_or_default())
                    )
                })
            },
        },
        Mutation {
            name: "split_concat",
            kind: Structure,
            apply: |c, rng| {
                let (a, b, rest) = split_in_two(c, rng);
                Case { text: format!("{rest}\nLet a = \"{a}\" and b = \"{b}\". Concatenate a and b and use the result."), value: String::new() }
            },
        },
        Mutation {
            name: "split_lines",
            kind: Structure,
            apply: |c, rng| {
                let (a, b, rest) = split_in_two(c, rng);
                Case {
                    text: format!("{rest}\npart 1: {a}\n\nsome notes in between\n\npart 2: {b}"),
                    value: String::new(),
                }
            },
        },
        Mutation {
            name: "split_messages",
            kind: Structure,
            apply: |c, rng| {
                // The value's two halves end one message and start the next.
                let (a, b, _) = split_in_two(c, rng);
                let (before, after) = match c.text.find(&c.value).filter(|_| !c.value.is_empty()) {
                    Some(at) => (&c.text[..at], &c.text[at + c.value.len()..]),
                    None => ("", ""),
                };
                Case {
                    text: format!("{before}{a}{MESSAGE_BREAK}{b}{after}"),
                    value: String::new(),
                }
            },
        },
        Mutation {
            name: "markdown_fence",
            kind: Wrapping,
            apply: |c, _| Case {
                text: format!(
                    "Here is the config:\n```yaml\n{}\n```\nWhat does it do?",
                    c.text
                ),
                value: c.value.clone(),
            },
        },
        Mutation {
            name: "html",
            kind: Wrapping,
            apply: |c, _| Case {
                text: format!(
                    "<html><body><div class=\"note\"><p>{}</p></div></body></html>",
                    c.text
                ),
                value: c.value.clone(),
            },
        },
        Mutation {
            name: "csv",
            kind: Wrapping,
            apply: |c, _| Case {
                text: format!(
                    "id,owner,note\n17,ops,\"{}\"\n18,dev,none",
                    c.text.replace('"', "\"\"")
                ),
                value: c.value.clone(),
            },
        },
        Mutation {
            name: "email_quote",
            kind: Wrapping,
            apply: |c, _| {
                Case { text: format!("Can you summarise this thread?\n\n> From: Dana Whitfield\n> Subject: follow-up\n>\n> {}\n>\n> Thanks", c.text.replace('\n', "\n> ")), value: c.value.clone() }
            },
        },
        Mutation {
            name: "tool_result",
            kind: Wrapping,
            apply: |c, _| {
                Case { text: serde_json::json!({"tool": "read_file", "result": {"path": "notes.txt", "content": c.text}}).to_string(), value: c.value.clone() }
            },
        },
        Mutation {
            name: "translation",
            kind: Language,
            apply: |c, _| Case {
                text: format!(
                    "Traduce al inglés el siguiente texto, palabra por palabra: «{}»",
                    c.text
                ),
                value: c.value.clone(),
            },
        },
    ]
}

/// Chains of two, the ones attackers reach for: a character trick under an encoding or a
/// wrapper, and a split inside a wrapper.
pub const CHAINS: &[(&str, &str)] = &[
    ("homoglyph", "base64"),
    ("zero_width", "markdown_fence"),
    ("fullwidth", "tool_result"),
    ("spaced", "email_quote"),
    ("split_concat", "translation"),
    ("case_game", "hex"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_are_deterministic_and_hide_the_value() {
        let case = Case {
            text: "deploy with AKIAQWERTYUIOPASDFGH now".into(),
            value: "AKIAQWERTYUIOPASDFGH".into(),
        };
        for m in all() {
            let a = (m.apply)(&case, &mut Rng::new(7));
            let b = (m.apply)(&case, &mut Rng::new(7));
            assert_eq!(a.text, b.text, "{}", m.name);
            if m.name != "none" && !matches!(m.kind, Kind::Wrapping | Kind::Language) {
                assert!(
                    !a.text.contains(&case.value),
                    "{} left the value as it was",
                    m.name
                );
            }
        }
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI======");
        assert_eq!(rot13("Hello"), "Uryyb");
    }
}

//! What a red-team run found: detection per evasion × detector family, the benign texts the
//! same evasions got flagged, and the comparison with a baseline that gates a build.

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// One evasion against one detector family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub mutation: String,
    pub family: String,
    pub cases: usize,
    pub detected: usize,
    /// A few rules whose cases got through (where to look first).
    #[serde(default)]
    pub missed_rules: Vec<String>,
}

impl Row {
    /// The share caught.
    pub fn rate(&self) -> f64 {
        if self.cases == 0 {
            1.0
        } else {
            self.detected as f64 / self.cases as f64
        }
    }
}

/// One evasion over the benign texts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenignRow {
    pub mutation: String,
    pub cases: usize,
    pub flagged: usize,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub seed: u64,
    pub rows: Vec<Row>,
    pub benign: Vec<BenignRow>,
}

/// Below this share caught, an evasion is a blind spot for that family.
pub const BLIND: f64 = 0.5;

impl Report {
    /// Evasion × family pairs caught less than half the time.
    pub fn blind_spots(&self) -> Vec<&Row> {
        self.rows.iter().filter(|r| r.rate() < BLIND).collect()
    }

    /// Every way this run is worse than `baseline`: a pair caught less often, or an evasion
    /// that flags more benign texts. Empty: no regression.
    pub fn regressions(&self, baseline: &Report) -> Vec<String> {
        let mut out = Vec::new();
        for b in &baseline.rows {
            match self
                .rows
                .iter()
                .find(|r| r.mutation == b.mutation && r.family == b.family)
            {
                Some(r) if r.rate() + 1e-9 < b.rate() => out.push(format!(
                    "{} / {}: {}/{} caught, baseline {}/{}",
                    b.mutation, b.family, r.detected, r.cases, b.detected, b.cases
                )),
                Some(_) => {}
                None => out.push(format!("{} / {}: no longer measured", b.mutation, b.family)),
            }
        }
        for b in &baseline.benign {
            if let Some(r) = self.benign.iter().find(|r| r.mutation == b.mutation) {
                let rate = |x: &BenignRow| x.flagged as f64 / x.cases.max(1) as f64;
                if rate(r) > rate(b) + 1e-9 {
                    out.push(format!(
                        "{} on benign text: {}/{} flagged, baseline {}/{}",
                        b.mutation, r.flagged, r.cases, b.flagged, b.cases
                    ));
                }
            }
        }
        out
    }

    /// Every family, in a stable order.
    fn families(&self) -> Vec<String> {
        let mut f: Vec<String> = self.rows.iter().map(|r| r.family.clone()).collect();
        f.sort();
        f.dedup();
        f
    }

    /// Every evasion, in run order.
    fn mutations(&self) -> Vec<String> {
        let mut m: Vec<String> = Vec::new();
        for r in &self.rows {
            if !m.contains(&r.mutation) {
                m.push(r.mutation.clone());
            }
        }
        m
    }

    fn cell(&self, mutation: &str, family: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.mutation == mutation && r.family == family)
    }

    /// Caught over all families for one evasion.
    fn overall(&self, mutation: &str) -> (usize, usize) {
        self.rows
            .iter()
            .filter(|r| r.mutation == mutation)
            .fold((0, 0), |(d, c), r| (d + r.detected, c + r.cases))
    }

    /// A plain-text table: evasions down, families across, percent caught; then benign.
    pub fn table(&self) -> String {
        // Each family's column is as wide as its name (at least 12).
        let col = |f: &str| f.chars().count().max(12);
        let families = self.families();
        let mut out = format!("{:<28}", "evasion");
        for f in &families {
            let _ = write!(out, " {f:>w$}", w = col(f));
        }
        let _ = writeln!(out, "{:>10}{:>16}", "all", "benign flagged");
        for m in self.mutations() {
            let _ = write!(out, "{m:<28}");
            for f in &families {
                match self.cell(&m, f) {
                    Some(r) => {
                        let _ = write!(out, " {:>w$.0}%", 100.0 * r.rate(), w = col(f) - 1);
                    }
                    None => {
                        let _ = write!(out, " {:>w$}", "–", w = col(f));
                    }
                }
            }
            let (d, c) = self.overall(&m);
            let b = self.benign.iter().find(|b| b.mutation == m);
            let _ = writeln!(
                out,
                "{:>9.0}%{:>16}",
                100.0 * d as f64 / c.max(1) as f64,
                b.map(|b| format!("{}/{}", b.flagged, b.cases))
                    .unwrap_or_default()
            );
        }
        let blind = self.blind_spots();
        let _ = writeln!(
            out,
            "\nblind spots (caught < {:.0}%): {}",
            100.0 * BLIND,
            blind.len()
        );
        for r in blind {
            let _ = writeln!(
                out,
                "  {} / {}: {}/{} (e.g. {})",
                r.mutation,
                r.family,
                r.detected,
                r.cases,
                r.missed_rules.join(", ")
            );
        }
        out
    }

    /// A standalone HTML page: a bar per evasion (share caught over all families) and the
    /// full table. Nothing external; every value is escaped.
    pub fn html(&self) -> String {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let mutations = self.mutations();
        let (bar_h, w) = (18, 760);
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{}\" role=\"img\" aria-label=\"Share caught per evasion\">",
            mutations.len() * (bar_h + 4) + 10
        );
        for (i, m) in mutations.iter().enumerate() {
            let (d, c) = self.overall(m);
            let rate = d as f64 / c.max(1) as f64;
            let y = i * (bar_h + 4);
            let color = if rate < BLIND {
                "#a4161a"
            } else if rate < 0.9 {
                "#c77700"
            } else {
                "#1d6b32"
            };
            let _ = write!(
                svg,
                "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text><rect x=\"200\" y=\"{y}\" width=\"{:.0}\" height=\"{bar_h}\" fill=\"{color}\"/><text x=\"{:.0}\" y=\"{}\" font-size=\"12\">{:.0}%</text>",
                y + 13,
                esc(m),
                (w - 260) as f64 * rate,
                205.0 + (w - 260) as f64 * rate,
                y + 13,
                100.0 * rate
            );
        }
        svg.push_str("</svg>");
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>PromptWall red team</title>\
             <style>body{{font:14px system-ui,sans-serif;margin:24px;color:#1b1f24}}pre{{background:#f1f3f6;padding:12px}}</style></head>\
             <body><h1>PromptWall red team (seed {})</h1><h2>Share caught per evasion</h2>{svg}<h2>Per family</h2><pre>{}</pre></body></html>",
            self.seed,
            esc(&self.table())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(detected: usize, flagged: usize) -> Report {
        Report {
            seed: 1,
            rows: vec![Row {
                mutation: "base64".into(),
                family: "secret".into(),
                cases: 10,
                detected,
                missed_rules: vec![],
            }],
            benign: vec![BenignRow {
                mutation: "base64".into(),
                cases: 10,
                flagged,
            }],
        }
    }

    #[test]
    fn a_drop_in_detection_or_a_rise_in_false_flags_is_a_regression() {
        assert!(report(8, 1).regressions(&report(8, 1)).is_empty());
        assert!(report(9, 0).regressions(&report(8, 1)).is_empty());
        assert_eq!(report(7, 1).regressions(&report(8, 1)).len(), 1);
        assert_eq!(report(8, 2).regressions(&report(8, 1)).len(), 1);
        assert_eq!(report(4, 0).blind_spots().len(), 1);
        assert!(report(4, 0).html().contains("<svg"));
    }
}

//! The SVG chart `cargo xtask bench` writes next to its report: one row per cell and
//! peer, a bar to the median ratio ours/peer and a whisker over the per-round range, with
//! the parity line at 1 (right of it, ours is faster). Plain SVG text, no dependencies.

use std::fmt::Write as _;

/// One row of the chart.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// The cell, e.g. `round trip binary 16 B`.
    pub(crate) cell: String,
    /// The peer, e.g. `tungstenite`.
    pub(crate) peer: String,
    pub(crate) median: f64,
    pub(crate) low: f64,
    pub(crate) high: f64,
}

/// Bar colours per peer, in order of first appearance.
const COLOURS: [&str; 4] = ["#3b6fb6", "#d9822b", "#5a9e4b", "#9b59b6"];

const ROW: f64 = 18.0;
const LABEL: f64 = 300.0;
const PLOT: f64 = 460.0;
const TOP: f64 = 46.0;

/// The chart of `rows` as an SVG document, titled `title`.
pub(crate) fn svg(title: &str, rows: &[Row]) -> String {
    let mut peers: Vec<&str> = Vec::new();
    for row in rows {
        if !peers.contains(&row.peer.as_str()) {
            peers.push(&row.peer);
        }
    }
    // The axis runs from 0 to a round number past every whisker (at least 2).
    let top = rows
        .iter()
        .map(|r| r.high.max(r.median))
        .filter(|v| v.is_finite())
        .fold(2.0_f64, f64::max)
        .min(10.0);
    let max = (top * 2.0).ceil() / 2.0;
    let x = |v: f64| LABEL + PLOT * (v.clamp(0.0, max) / max);
    #[allow(clippy::cast_precision_loss, reason = "a few dozen rows")]
    let height = TOP + ROW * rows.len() as f64 + 40.0;
    let width = LABEL + PLOT + 30.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n\
         <text x=\"8\" y=\"16\" font-size=\"13\" font-weight=\"bold\">{}</text>",
        escape(title)
    );
    // Legend.
    let mut lx = 8.0;
    for (i, peer) in peers.iter().enumerate() {
        let _ = writeln!(
            out,
            "<rect x=\"{lx:.0}\" y=\"24\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text x=\"{:.0}\" y=\"33\">ours / {}</text>",
            COLOURS[i % COLOURS.len()],
            lx + 14.0,
            escape(peer)
        );
        #[allow(clippy::cast_precision_loss, reason = "short names")]
        let step = 70.0 + 6.5 * peer.len() as f64;
        lx += step;
    }
    // Grid every 0.5, parity line at 1.
    let bottom = height - 30.0;
    let mut tick = 0.0;
    while tick <= max + 1e-9 {
        let tx = x(tick);
        let (stroke, dash) = if (tick - 1.0).abs() < 1e-9 {
            ("#000000", "")
        } else {
            ("#dddddd", " stroke-dasharray=\"2,3\"")
        };
        let _ = writeln!(
            out,
            "<line x1=\"{tx:.1}\" y1=\"{TOP:.0}\" x2=\"{tx:.1}\" y2=\"{bottom:.0}\" \
             stroke=\"{stroke}\"{dash}/>\
             <text x=\"{tx:.1}\" y=\"{:.0}\" text-anchor=\"middle\">{tick:.1}×</text>",
            bottom + 14.0
        );
        tick += 0.5;
    }
    for (i, row) in rows.iter().enumerate() {
        #[allow(clippy::cast_precision_loss, reason = "a few dozen rows")]
        let y = TOP + ROW * i as f64;
        let colour =
            COLOURS[peers.iter().position(|p| *p == row.peer).unwrap_or(0) % COLOURS.len()];
        let mid = y + ROW / 2.0;
        let _ = writeln!(
            out,
            "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">{} · {}</text>\
             <rect x=\"{LABEL:.0}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\" \
             fill-opacity=\"0.75\"><title>{}: ours/{} {:.2}× ({:.2}–{:.2})</title></rect>\
             <line x1=\"{:.1}\" y1=\"{mid:.1}\" x2=\"{:.1}\" y2=\"{mid:.1}\" stroke=\"#222222\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{:.2}</text>",
            LABEL - 6.0,
            mid + 4.0,
            escape(&row.cell),
            escape(&row.peer),
            y + 3.0,
            x(row.median) - LABEL,
            ROW - 6.0,
            escape(&row.cell),
            escape(&row.peer),
            row.median,
            row.low,
            row.high,
            x(row.low),
            x(row.high),
            (x(row.high).max(x(row.median)) + 4.0).min(width - 26.0),
            mid + 4.0,
            row.median,
        );
    }
    out.push_str("</svg>\n");
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_drawn_with_its_figure() {
        let rows = vec![
            Row {
                cell: "round trip binary 16 B".to_owned(),
                peer: "tungstenite".to_owned(),
                median: 1.17,
                low: 1.07,
                high: 1.18,
            },
            Row {
                cell: "a <b>".to_owned(),
                peer: "raw".to_owned(),
                median: 0.5,
                low: 0.4,
                high: 0.6,
            },
        ];
        let svg = svg("t", &rows);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<rect x=\"300\"").count(), 2);
        assert!(svg.contains(">1.17<"));
        assert!(svg.contains("a &lt;b&gt;"));
        assert!(svg.contains("ours / raw"));
    }
}

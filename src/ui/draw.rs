//! Tables and diffs, drawn from plain rows: commands say what to show, this decides how it
//! looks (widths, alignment, colour on a terminal).

use super::{bold, colour_stdout, dim, red, say};

/// A column: its heading and whether its cells align right (numbers).
pub struct Column<'a> {
    pub heading: &'a str,
    pub right: bool,
}

/// A table with a heading row; each column as wide as its widest cell.
pub fn table(columns: &[Column], rows: &[Vec<String>]) {
    table_lines(columns, rows).iter().for_each(|l| say(l));
}

/// The lines [`table`] prints.
pub fn table_lines(columns: &[Column], rows: &[Vec<String>]) -> Vec<String> {
    let mut widths: Vec<usize> = columns.iter().map(|c| c.heading.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(columns.iter().zip(&widths))
            .map(|(cell, (c, w))| if c.right { format!("{cell:>w$}") } else { format!("{cell:<w$}") })
            .collect();
        parts.join(" ").trim_end().to_string()
    };
    let mut out = vec![line(columns.iter().map(|c| c.heading).collect())];
    out.extend(rows.iter().map(|row| line(row.iter().map(String::as_str).collect())));
    out
}

/// One stack of a diff.
pub struct DiffStack {
    /// `stack api (orders-prod-api)`
    pub title: String,
    /// Nothing differs: drawn on one line.
    pub unchanged: bool,
    pub entries: Vec<DiffEntry>,
    /// Lines after the resources (parameters), and a note drawn dim.
    pub trailing: Vec<String>,
    pub note: Option<String>,
}

/// One resource of a diff: `+`, `-` or `~`, its heading, a warning drawn in red in place of
/// the plain heading (data loss), and the detail lines under it.
pub struct DiffEntry {
    pub sign: char,
    pub head: String,
    pub danger: Option<String>,
    pub details: Vec<String>,
}

pub fn diff(stacks: &[DiffStack]) {
    diff_lines(stacks, colour_stdout()).iter().for_each(|l| say(l));
}

/// The lines [`diff`] prints, in colour when `on`.
pub fn diff_lines(stacks: &[DiffStack], on: bool) -> Vec<String> {
    let mut out = vec![];
    for d in stacks {
        if d.unchanged {
            out.push(format!("{} {}", bold(on, &d.title), dim(on, "no change")));
            continue;
        }
        out.push(bold(on, &d.title));
        for e in &d.entries {
            let head = format!("{} {}", e.sign, e.head);
            out.push(match &e.danger {
                Some(warning) => format!("  {}", red(on, &format!("{head}  {warning}"))),
                None => format!("  {head}"),
            });
            out.extend(e.details.iter().map(|l| format!("      {l}")));
        }
        out.extend(d.trailing.iter().map(|l| format!("  {l}")));
        if let Some(n) = &d.note {
            out.push(format!("  {}", dim(on, n)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell_and_numbers_align_right() {
        let cols = [Column { heading: "stack", right: false }, Column { heading: "monthly", right: true }];
        let rows = vec![vec!["media".to_string(), "303.26".to_string()], vec!["api".into(), "1.03".into()]];
        assert_eq!(table_lines(&cols, &rows), vec!["stack monthly", "media  303.26", "api      1.03"]);
    }

    #[test]
    fn a_data_loss_entry_is_red_on_a_terminal_and_plain_otherwise() {
        let stacks = vec![
            DiffStack { title: "stack web".into(), unchanged: true, entries: vec![], trailing: vec![], note: None },
            DiffStack {
                title: "stack data (t)".into(),
                unchanged: false,
                entries: vec![DiffEntry {
                    sign: '-',
                    head: "Table (AWS::DynamoDB::Table)".into(),
                    danger: Some("DATA LOSS".into()),
                    details: vec!["Properties.X: 1 -> 2".into()],
                }],
                trailing: vec!["parameter P: a -> b".into()],
                note: None,
            },
        ];
        let plain = diff_lines(&stacks, false);
        assert_eq!(
            plain,
            vec![
                "stack web no change",
                "stack data (t)",
                "  - Table (AWS::DynamoDB::Table)  DATA LOSS",
                "      Properties.X: 1 -> 2",
                "  parameter P: a -> b"
            ]
        );
        assert!(diff_lines(&stacks, true)[2].contains("\x1b[31;1m"));
    }
}

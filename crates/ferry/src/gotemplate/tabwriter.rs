//! Go's `text/tabwriter` (left-aligned, space padding, no flags): tab-terminated cells
//! in consecutive lines form column blocks padded to the widest cell plus `padding`
//! (at least `minwidth`); the last cell of a line is not aligned.

/// Aligns `text` like `tabwriter.NewWriter(w, minwidth, _, padding, ' ', 0)`.
pub fn align(text: &str, minwidth: usize, padding: usize) -> String {
    if !text.contains('\t') {
        return text.to_string();
    }
    let lines: Vec<Vec<&str>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
    let mut out = String::with_capacity(text.len());
    let mut widths = Vec::new();
    format(
        &lines,
        0,
        lines.len(),
        &mut widths,
        minwidth,
        padding,
        &mut out,
    );
    out
}

fn cell_width(s: &str) -> usize {
    s.chars().count()
}

/// Go's recursive `format`: `widths` holds the widths of the columns left of the one
/// being laid out.
fn format(
    lines: &[Vec<&str>],
    mut line0: usize,
    line1: usize,
    widths: &mut Vec<usize>,
    minwidth: usize,
    padding: usize,
    out: &mut String,
) {
    let column = widths.len();
    let mut this = line0;
    while this < line1 {
        if column + 1 >= lines[this].len() {
            this += 1;
            continue;
        }
        write_lines(lines, line0, this, widths, out);
        line0 = this;
        let mut width = minwidth;
        while this < line1 && column + 1 < lines[this].len() {
            width = width.max(cell_width(lines[this][column]) + padding);
            this += 1;
        }
        widths.push(width);
        format(lines, line0, this, widths, minwidth, padding, out);
        widths.pop();
        line0 = this;
    }
    write_lines(lines, line0, line1, widths, out);
}

fn write_lines(
    lines: &[Vec<&str>],
    line0: usize,
    line1: usize,
    widths: &[usize],
    out: &mut String,
) {
    for (i, line) in lines.iter().enumerate().take(line1).skip(line0) {
        for (j, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if j + 1 < line.len()
                && let Some(w) = widths.get(j)
            {
                out.push_str(&" ".repeat(w.saturating_sub(cell_width(cell))));
            }
        }
        if i + 1 < lines.len() {
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::align;

    #[test]
    fn aligns_column_blocks() {
        assert_eq!(
            align("a\tb\nlonger cell\tc\n", 4, 2),
            "a            b\nlonger cell  c\n"
        );
        assert_eq!(align("x\ty\nplain\n", 4, 2), "x   y\nplain\n");
        assert_eq!(align("no tabs\n", 12, 2), "no tabs\n");
    }
}

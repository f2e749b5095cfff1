//! Where target expressions come from besides the command line: `-iL`
//! files, `--excludefile` files and the comma-separated `--exclude` list.
//!
//! Files are read as a stream, one bounded line at a time, and handed over
//! expression by expression: a target list of millions of lines is never
//! held as text, and `/dev/zero` or a file without line ends fails at the
//! first over-long line instead of filling memory. A bad expression costs
//! a warning (`FILE:LINE: reason`, as nmap does), not the whole scan.

use crate::error::{escape_path, TargetError};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Longest line a target file may have, in bytes (without its line end).
pub const MAX_LINE_BYTES: usize = 4096;

/// At most this many bad-line warnings per file are kept; the rest are
/// counted in one more warning.
const MAX_LINE_WARNINGS: u64 = 20;

/// Reads the target file at `path` (`-` is standard input) and calls `use_expr`
/// with each expression and its 1-based line number. Expressions are
/// separated by whitespace, any number per line; `#` starts a comment to
/// the end of the line; a UTF-8 byte order mark and CRLF line ends are
/// accepted.
///
/// An expression `use_expr` refuses becomes a warning `FILE:LINE: reason`
/// in `warnings` (the first few; then a count), and reading goes on; if
/// every expression of the file was refused, that is an error. A line
/// longer than [`MAX_LINE_BYTES`] or a read failure is an error at once.
pub fn read_list_file(
    path: &Path,
    warnings: &mut Vec<String>,
    mut use_expr: impl FnMut(&str) -> Result<(), TargetError>,
) -> Result<(), TargetError> {
    let shown = path.display().to_string();
    let input: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(path).map_err(|e| TargetError::read_file(&shown, &e))?)
    };
    let mut reader = BufReader::with_capacity(64 * 1024, input);
    let mut line = Vec::with_capacity(256);
    let (mut good, mut bad) = (0u64, 0u64);
    let mut first = (0, String::new());
    for number in 1u64.. {
        line.clear();
        let limit = (MAX_LINE_BYTES + 2) as u64; // room for "\r\n"
        let n = (&mut reader)
            .take(limit)
            .read_until(b'\n', &mut line)
            .map_err(|e| TargetError::read_file(&shown, &e))?;
        if n == 0 {
            break;
        }
        let mut body = line.strip_suffix(b"\n").unwrap_or(&line);
        body = body.strip_suffix(b"\r").unwrap_or(body);
        if body.len() > MAX_LINE_BYTES {
            return Err(TargetError::Line {
                path: shown,
                line: number,
                reason: format!("line longer than {MAX_LINE_BYTES} bytes"),
            });
        }
        if number == 1 {
            body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
        }
        let text = String::from_utf8_lossy(body);
        for expr in split_line(&text) {
            match use_expr(expr) {
                Ok(()) => good += 1,
                Err(e) => {
                    bad += 1;
                    if bad == 1 {
                        first = (number, e.to_string());
                    }
                    if bad <= MAX_LINE_WARNINGS {
                        warnings.push(format!("{}:{number}: {e}", escape_path(&shown)));
                    }
                }
            }
        }
    }
    if bad > MAX_LINE_WARNINGS {
        warnings.push(format!(
            "{}: {} more bad expressions skipped",
            escape_path(&shown),
            bad - MAX_LINE_WARNINGS
        ));
    }
    if bad > 0 && good == 0 {
        return Err(TargetError::NothingValid {
            path: shown,
            bad,
            line: first.0,
            first: first.1,
        });
    }
    Ok(())
}

/// The expressions of one line of a target file.
fn split_line(line: &str) -> impl Iterator<Item = &str> {
    line.split_once('#')
        .map_or(line, |(code, _)| code)
        .split_whitespace()
}

/// Splits the text of a target file into expressions (see
/// [`read_list_file`]).
pub fn parse_list(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines()
        .flat_map(split_line)
        .map(str::to_string)
        .collect()
}

/// Splits an `--exclude` argument at commas into expressions.
///
/// Commas also separate values inside an IPv4 octet range
/// (`198.18.0,1,3-7.-`), so a piece made only of digits, dots, dashes and
/// `*` is joined back onto the previous piece while that one still has
/// fewer than four octets, or when the piece has no dot (it can only be
/// more values for the last octet).
pub fn split_exclude_list(text: &str) -> Vec<String> {
    let numeric =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b".-*".contains(&b));
    let mut out: Vec<String> = Vec::new();
    for piece in text.split(',').map(str::trim) {
        if let Some(prev) = out.last_mut() {
            let prev_numeric = prev
                .bytes()
                .all(|b| b.is_ascii_digit() || b".,-*".contains(&b));
            let prev_dots = prev.bytes().filter(|&b| b == b'.').count();
            if prev_numeric && numeric(piece) && (prev_dots < 3 || !piece.contains('.')) {
                prev.push(',');
                prev.push_str(piece);
                continue;
            }
        }
        if !piece.is_empty() {
            out.push(piece.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_files_allow_comments_blanks_and_many_per_line() {
        let text = "# header\n198.18.0.1 198.18.0.2\t198.18.1.0/24\n\n  host.test # trailing\n#only\r\n2001:2::1\r\n";
        assert_eq!(
            parse_list(text),
            vec![
                "198.18.0.1",
                "198.18.0.2",
                "198.18.1.0/24",
                "host.test",
                "2001:2::1"
            ]
        );
        assert!(parse_list("").is_empty());
    }

    /// Every expression of a file, each accepted unless it is `bad`.
    fn read(path: &Path) -> Result<(Vec<String>, Vec<String>), TargetError> {
        let mut exprs = Vec::new();
        let mut warnings = Vec::new();
        read_list_file(path, &mut warnings, |e| {
            if e.starts_with("bad") {
                return Err(TargetError::invalid(e, "bad"));
            }
            exprs.push(e.to_string());
            Ok(())
        })?;
        Ok((exprs, warnings))
    }

    fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("portolan-targets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(name);
        std::fs::write(&file, bytes).unwrap();
        file
    }

    #[test]
    fn reads_files_and_reports_missing_ones() {
        let file = temp_file("list.txt", b"198.18.0.1\n# x\n198.18.0.2,3.1\n");
        assert_eq!(read(&file).unwrap().0, vec!["198.18.0.1", "198.18.0.2,3.1"]);
        std::fs::remove_file(&file).unwrap();
        let err = read(Path::new("/nonexistent/portolan/x")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read target file \"/nonexistent/portolan/x\": No such file or directory"
        );
    }

    #[test]
    fn a_byte_order_mark_and_crlf_line_ends_are_accepted() {
        let file = temp_file(
            "bom.txt",
            b"\xef\xbb\xbf198.18.0.1\r\n198.18.0.2 # c\r\n\r\nhost.test",
        );
        let (exprs, warnings) = read(&file).unwrap();
        assert_eq!(exprs, ["198.18.0.1", "198.18.0.2", "host.test"]);
        assert!(warnings.is_empty(), "{warnings:?}");
        std::fs::remove_file(&file).unwrap();
        assert_eq!(parse_list("\u{feff}198.18.0.1\r\n"), ["198.18.0.1"]);
    }

    #[test]
    fn an_over_long_line_is_an_error_naming_file_and_line() {
        let mut text = b"198.18.0.1\n".to_vec();
        text.extend(std::iter::repeat_n(b'1', MAX_LINE_BYTES + 1));
        let file = temp_file("long.txt", &text);
        let err = read(&file).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("{}:2: line longer than 4096 bytes", file.display())
        );
        // Exactly the limit, with CRLF, is fine.
        let mut text = vec![b' '; MAX_LINE_BYTES];
        text.extend(b"\r\n");
        std::fs::write(&file, &text).unwrap();
        assert!(read(&file).unwrap().0.is_empty());
        std::fs::remove_file(&file).unwrap();
        // An endless file without line ends fails at once.
        let err = read(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(err.to_string(), "/dev/zero:1: line longer than 4096 bytes");
    }

    #[test]
    fn bad_expressions_warn_and_reading_goes_on() {
        let file = temp_file("bad.txt", b"198.18.0.1\nbad\x1b[31m x\n\nbad2\n");
        let (exprs, warnings) = read(&file).unwrap();
        assert_eq!(exprs, ["198.18.0.1", "x"]);
        let shown = file.display();
        assert_eq!(
            warnings,
            [
                format!("{shown}:2: invalid target \"bad\\x1b[31m\": bad"),
                format!("{shown}:4: invalid target \"bad2\": bad"),
            ]
        );
        // Nothing good at all: an error.
        std::fs::write(&file, b"bad1\nbad2 # c\n").unwrap();
        let err = read(&file).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("no valid target in \"{shown}\" (2 bad; the first, line 1: invalid target \"bad1\": bad)")
        );
        // An empty file is no error; many bad lines keep few warnings.
        std::fs::write(&file, b"# nothing\n").unwrap();
        assert_eq!(read(&file).unwrap(), (vec![], vec![]));
        std::fs::write(&file, "bad\n".repeat(1000) + "ok\n").unwrap();
        let (exprs, warnings) = read(&file).unwrap();
        assert_eq!(exprs, ["ok"]);
        assert_eq!(warnings.len(), 21);
        assert_eq!(
            warnings[20],
            format!("{shown}: 980 more bad expressions skipped")
        );
        std::fs::remove_file(&file).unwrap();
    }

    #[test]
    fn exclude_lists_keep_octet_lists_together() {
        assert_eq!(
            split_exclude_list("198.18.0.1,198.18.0.2"),
            vec!["198.18.0.1", "198.18.0.2"]
        );
        assert_eq!(
            split_exclude_list("198.18.0,1,3-7.-"),
            vec!["198.18.0,1,3-7.-"]
        );
        assert_eq!(
            split_exclude_list("198.18.0.1,2,5-9,host.test,2001:2::1,198.19.0.0/16"),
            vec![
                "198.18.0.1,2,5-9",
                "host.test",
                "2001:2::1",
                "198.19.0.0/16"
            ]
        );
        assert_eq!(split_exclude_list(" a , ,b,"), vec!["a", "b"]);
        assert!(split_exclude_list("").is_empty());
    }
}

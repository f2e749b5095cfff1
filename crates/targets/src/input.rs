//! Where target expressions come from besides the command line: `-iL`
//! files, `--excludefile` files and the comma-separated `--exclude` list.

use crate::error::TargetError;
use std::io::Read;
use std::path::Path;

/// Reads a target file (`-iL`, `--excludefile`): expressions separated by
/// whitespace, any number per line, `#` starting a comment to the end of
/// the line. The path `-` reads standard input.
pub fn read_list_file(path: &Path) -> Result<Vec<String>, TargetError> {
    let shown = path.display().to_string();
    let mut bytes = Vec::new();
    let result = if path.as_os_str() == "-" {
        std::io::stdin().lock().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes).map(|_| ()))
    };
    result.map_err(|e| TargetError::read_file(&shown, &e))?;
    Ok(parse_list(&String::from_utf8_lossy(&bytes)))
}

/// Splits the text of a target file into expressions (see
/// [`read_list_file`]).
pub fn parse_list(text: &str) -> Vec<String> {
    text.lines()
        .flat_map(|line| {
            let code = line.split_once('#').map_or(line, |(c, _)| c);
            code.split_whitespace()
        })
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

    #[test]
    fn reads_files_and_reports_missing_ones() {
        let dir = std::env::temp_dir().join(format!("portolan-targets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("list.txt");
        std::fs::write(&file, "198.18.0.1\n# x\n198.18.0.2,3.1\n").unwrap();
        assert_eq!(
            read_list_file(&file).unwrap(),
            vec!["198.18.0.1", "198.18.0.2,3.1"]
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let err = read_list_file(Path::new("/nonexistent/portolan/x")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read target file \"/nonexistent/portolan/x\": No such file or directory"
        );
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

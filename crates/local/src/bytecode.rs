//! The in-kernel port filter: `inet_diag` bytecode (`INET_DIAG_REQ_BYTECODE`)
//! that keeps a socket when its local or remote port is in the wanted
//! ranges, so a `-p 22` listing of a busy machine does not copy every
//! connection out of the kernel.
//!
//! The kernel runs the program from the start: a true condition advances
//! by `yes` bytes, a false one by `no`; reaching the end exactly accepts,
//! jumping past it rejects. Its audit walks the `yes` chain, so every op's
//! `yes` is the next op. One block per (range, side):
//!
//! ```text
//! GE port>=lo  yes→LE  no→next block   (+4 bytes holding lo)
//! LE port<=hi  yes→JMP no→next block   (+4 bytes holding hi)
//! JMP          no→end (accept)
//! ```
//!
//! and a final `JMP` past the end (reject). The caller still checks the
//! ports, so the filter only has to be a superset.

const BC_JMP: u8 = 1;
const BC_S_GE: u8 = 2;
const BC_S_LE: u8 = 3;
const BC_D_GE: u8 = 4;
const BC_D_LE: u8 = 5;
const BLOCK: usize = 20;
/// More ranges than this are filtered in user space only.
pub const MAX_RANGES: usize = 256;

fn op(out: &mut Vec<u8>, code: u8, yes: u8, no: u16) {
    out.push(code);
    out.push(yes);
    out.extend_from_slice(&no.to_ne_bytes());
}

/// Compresses sorted ports into inclusive ranges.
pub fn ranges(ports: &[u16]) -> Vec<(u16, u16)> {
    let mut out: Vec<(u16, u16)> = Vec::new();
    for &p in ports {
        match out.last_mut() {
            Some((_, hi)) if u32::from(*hi) + 1 == u32::from(p) => *hi = p,
            _ => out.push((p, p)),
        }
    }
    out
}

/// The program for "local or remote port in `ranges`", or `None` when
/// there are too many ranges (or none) to be worth it.
pub fn port_filter(ranges: &[(u16, u16)]) -> Option<Vec<u8>> {
    if ranges.is_empty() || ranges.len() > MAX_RANGES {
        return None;
    }
    let total = ranges.len() * 2 * BLOCK + 4;
    let mut bc = Vec::with_capacity(total);
    for side in [(BC_S_GE, BC_S_LE), (BC_D_GE, BC_D_LE)] {
        for &(lo, hi) in ranges {
            let at = bc.len();
            op(&mut bc, side.0, 8, BLOCK as u16);
            op(&mut bc, 0, 0, lo);
            op(&mut bc, side.1, 8, (BLOCK - 8) as u16);
            op(&mut bc, 0, 0, hi);
            // JMP always takes `no`: to the end, which accepts.
            let to_end = total - (at + 16);
            op(&mut bc, BC_JMP, 4, u16::try_from(to_end).ok()?);
        }
    }
    // Past the end: reject.
    op(&mut bc, BC_JMP, 4, 8);
    Some(bc)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel's `inet_diag_bc_run`, for ports only.
    fn run(bc: &[u8], sport: u16, dport: u16) -> bool {
        let mut len = bc.len() as i64;
        let mut at = 0usize;
        while len > 0 {
            let code = bc[at];
            let yes_step = i64::from(bc[at + 1]);
            let no_step = i64::from(u16::from_ne_bytes([bc[at + 2], bc[at + 3]]));
            let arg = || u16::from_ne_bytes([bc[at + 6], bc[at + 7]]);
            let yes = match code {
                BC_JMP => false,
                BC_S_GE => sport >= arg(),
                BC_S_LE => sport <= arg(),
                BC_D_GE => dport >= arg(),
                BC_D_LE => dport <= arg(),
                _ => true,
            };
            let step = if yes { yes_step } else { no_step };
            len -= step;
            at = (at as i64 + step) as usize;
        }
        len == 0
    }

    #[test]
    fn ranges_compress() {
        assert_eq!(
            ranges(&[1, 2, 3, 5, 65535]),
            [(1, 3), (5, 5), (65535, 65535)]
        );
        assert_eq!(ranges(&[]), []);
    }

    #[test]
    fn program_matches_local_or_remote_port() {
        let bc = port_filter(&[(22, 22), (8000, 8080)]).unwrap();
        assert_eq!(bc.len(), 2 * 2 * BLOCK + 4);
        assert!(run(&bc, 22, 0));
        assert!(run(&bc, 40000, 22));
        assert!(run(&bc, 8000, 1));
        assert!(run(&bc, 8080, 1));
        assert!(run(&bc, 1, 8042));
        assert!(!run(&bc, 23, 21));
        assert!(!run(&bc, 7999, 8081));
        assert!(port_filter(&[]).is_none());
        let many: Vec<(u16, u16)> = (0..300).map(|i| (i * 2, i * 2)).collect();
        assert!(port_filter(&many).is_none());
    }
}

//! What the report says about where and when it ran: the date, the CPU, the
//! kernel, the load average and the commit. Everything is read when the run
//! starts (the load average also at its end); what cannot be read is
//! "unknown".

use std::{
    process::Command,
    time::{SystemTime, UNIX_EPOCH},
};

/// The machine and the moment of a run.
#[derive(Clone, Debug)]
pub struct Machine {
    /// UTC date and time, `YYYY-MM-DD HH:MM UTC`.
    pub date: String,
    /// The CPU model (first `model name` of `/proc/cpuinfo`).
    pub cpu_model: String,
    /// Logical CPUs this process may use.
    pub cpus: usize,
    /// `uname -srm`.
    pub kernel: String,
    /// The 1, 5 and 15 minute load averages.
    pub load_average: String,
    /// `git describe --always --dirty` of the working tree, if it is one.
    pub commit: String,
    /// The OS the figures were measured on; for a Windows build running
    /// under Wine, says so and gives Wine's version: those are Wine figures,
    /// not Windows ones.
    pub platform: String,
    /// Whether this is a Windows build running under Wine.
    pub wine: bool,
}

impl Machine {
    /// Reads it all now.
    pub fn now() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|line| {
                let (key, value) = line.split_once(':')?;
                (key.trim() == "model name").then(|| value.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        Self {
            date: utc_now(),
            cpu_model,
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            kernel: command("uname", &["-srm"]),
            load_average: load_average(),
            commit: command("git", &["describe", "--always", "--dirty"]),
            platform: platform(),
            wine: wine_version().is_some(),
        }
    }
}

/// `std::env::consts::OS`, or the Wine line for a Windows build under Wine.
fn platform() -> String {
    match wine_version() {
        Some(version) => format!(
            "windows (x86_64-pc-windows-gnu) under Wine {version}: Wine figures, not Windows ones"
        ),
        None => std::env::consts::OS.to_owned(),
    }
}

/// Wine's version, if this Windows process runs under Wine: Wine's `ntdll`
/// exports `wine_get_version`, Windows' does not.
#[cfg(windows)]
fn wine_version() -> Option<String> {
    use std::ffi::{CStr, c_char, c_void};

    #[link(name = "kernel32")]
    unsafe extern "system" {
        fn GetModuleHandleA(name: *const c_char) -> *mut c_void;
        fn GetProcAddress(module: *mut c_void, name: *const c_char) -> *mut c_void;
    }
    // SAFETY: a NUL-terminated name; ntdll is loaded in every process and
    // the call takes no reference on it.
    let ntdll = unsafe { GetModuleHandleA(c"ntdll.dll".as_ptr()) };
    if ntdll.is_null() {
        return None;
    }
    // SAFETY: `ntdll` is a loaded module and the name is NUL-terminated.
    let symbol = unsafe { GetProcAddress(ntdll, c"wine_get_version".as_ptr()) };
    if symbol.is_null() {
        return None;
    }
    // SAFETY: Wine declares it `const char *wine_get_version(void)`; a
    // function pointer has the size of a data pointer on this target.
    let get: unsafe extern "C" fn() -> *const c_char = unsafe { std::mem::transmute(symbol) };
    // SAFETY: it returns a static NUL-terminated string (or null).
    let version = unsafe { get() };
    // SAFETY: non-null, static and NUL-terminated, as above.
    (!version.is_null()).then(|| {
        unsafe { CStr::from_ptr(version) }
            .to_string_lossy()
            .into_owned()
    })
}

#[cfg(not(windows))]
fn wine_version() -> Option<String> {
    None
}

/// The 1, 5 and 15 minute load averages, from `/proc/loadavg`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// The first line of `program args`' output, or "unknown".
fn command(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| {
            let text = String::from_utf8_lossy(&out.stdout);
            text.lines().next().map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The current time as `YYYY-MM-DD HH:MM UTC`.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let minutes = secs % 86_400 / 60;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        minutes / 60,
        minutes % 60
    )
}

/// The proleptic Gregorian date of `days` since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn dates_from_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
    }
}

//! Where the CLI finds the server and the credentials: environment
//! (`LASTLINE_API_KEY`, `LASTLINE_API_TOKEN`), then a config file — never a
//! command-line flag, which other users could read in `ps`.
//!
//! The config file is TOML: settings at the top are the default profile;
//! `[profile.NAME]` tables hold others, chosen with `--profile NAME` or
//! `LASTLINE_PROFILE` (their settings over the top ones):
//!
//! ```toml
//! base_url = "https://analysis.lastline.com"
//! key = "..."
//! api_token = "..."
//!
//! [profile.lab]
//! base_url = "https://appliance.lab.example"
//! ca = "/etc/lastline/appliance-ca.pem"
//! auth = "session"
//! ```
//!
//! Files written before TOML (`name = value` lines with bare values) are
//! still read; their `[section]` lines, which were once silently merged,
//! are now refused with a pointer to `[profile.NAME]`.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The default server.
pub const DEFAULT_BASE_URL: &str = "https://analysis.lastline.com";

/// The settings a file may hold (text), and those that are numbers.
const NAMES: [&str; 7] = [
    "base_url",
    "key",
    "api_token",
    "ca",
    "auth",
    "api_key",
    "proxy",
];
const NUMBERS: [&str; 3] = ["timeout", "retries", "deadline"];

/// Settings read from the config file, the chosen profile applied.
#[derive(Default)]
pub struct FileSettings {
    values: HashMap<String, String>,
    /// Where they came from.
    pub path: Option<PathBuf>,
}

/// Names only: the values include credentials.
impl std::fmt::Debug for FileSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.values.keys().collect();
        names.sort();
        f.debug_struct("FileSettings")
            .field("set", &names)
            .field("path", &self.path)
            .finish()
    }
}

impl FileSettings {
    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }
}

/// The default config file: `$XDG_CONFIG_HOME/lastline/config`, else
/// `~/.config/lastline/config`.
pub fn default_path() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("lastline/config"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/lastline/config"))
}

/// One setting, checked: a known name (`api_key` is `key`), a string.
fn setting(
    values: &mut HashMap<String, String>,
    name: &str,
    value: &toml::Value,
    at: &str,
) -> Result<(), String> {
    let name = name.to_ascii_lowercase();
    let v = if NUMBERS.contains(&name.as_str()) {
        match value {
            toml::Value::Integer(n) if *n >= 0 => n.to_string(),
            toml::Value::Float(f) if *f >= 0.0 => f.to_string(),
            // The old form's bare values arrive as text.
            toml::Value::String(t) if t.trim().parse::<f64>().is_ok_and(|f| f >= 0.0) => {
                t.trim().to_owned()
            }
            _ => {
                return Err(format!(
                    "{at}: `{name}` must be a number (seconds, or a count)"
                ))
            }
        }
    } else if NAMES.contains(&name.as_str()) {
        match value.as_str() {
            Some(v) => v.to_owned(),
            None => return Err(format!("{at}: `{name}` must be a string")),
        }
    } else {
        return Err(format!("{at}: unknown setting `{name}`"));
    };
    let name = if name == "api_key" {
        "key".to_owned()
    } else {
        name
    };
    values.insert(name, v);
    Ok(())
}

/// Parses a config file's text, applying `profile` (`None`: the top-level
/// settings alone).
pub fn parse(text: &str, path: &Path, profile: Option<&str>) -> Result<FileSettings, String> {
    let at = path.display().to_string();
    let values = match text.parse::<toml::Table>() {
        Ok(table) => from_toml(&table, &at, profile)?,
        Err(toml_error) => legacy(text, &at, profile).map_err(|legacy_error| {
            // Neither form. A section in the old form gets the pointer to
            // profiles; other files with tables meant TOML: say what TOML
            // found there.
            let tables = text.lines().any(|l| l.trim_start().starts_with('['));
            if tables && !legacy_error.contains("[profile.NAME]") {
                format!("{at}: {}", toml_error.message())
            } else {
                legacy_error
            }
        })?,
    };
    Ok(FileSettings {
        values,
        path: Some(path.to_owned()),
    })
}

fn from_toml(
    table: &toml::Table,
    at: &str,
    profile: Option<&str>,
) -> Result<HashMap<String, String>, String> {
    let mut values = HashMap::new();
    let mut profiles = None;
    for (name, value) in table {
        if name == "profile" {
            profiles = Some(
                value
                    .as_table()
                    .ok_or_else(|| format!("{at}: `profile` must hold [profile.NAME] tables"))?,
            );
        } else if value.is_table() {
            return Err(format!(
                "{at}: [{name}] is not a setting: a profile is [profile.{name}]"
            ));
        } else {
            setting(&mut values, name, value, at)?;
        }
    }
    let Some(wanted) = profile else {
        return Ok(values);
    };
    let chosen = profiles
        .and_then(|p| p.get(wanted))
        .and_then(toml::Value::as_table)
        .ok_or_else(|| {
            let known: Vec<&str> = profiles
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            format!(
                "{at}: no profile `{wanted}` (profiles: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )
        })?;
    for (name, value) in chosen {
        setting(
            &mut values,
            name,
            value,
            &format!("{at} [profile.{wanted}]"),
        )?;
    }
    Ok(values)
}

/// The form before TOML: `name = value` lines, `#` comments, bare values.
fn legacy(text: &str, at: &str, profile: Option<&str>) -> Result<HashMap<String, String>, String> {
    if let Some(p) = profile {
        return Err(format!(
            "{at}: no profile `{p}`: profiles need the TOML form ([profile.{p}] with quoted values)"
        ));
    }
    let mut values = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        let here = format!("{at}:{}", n + 1);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            return Err(format!(
                "{here}: a section in a file that is not TOML: write it as [profile.NAME] with quoted values"
            ));
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(format!("{here}: expected `name = value`"));
        };
        let v = v.trim().trim_matches('"');
        setting(
            &mut values,
            k.trim(),
            &toml::Value::String(v.to_owned()),
            &here,
        )?;
    }
    Ok(values)
}

/// The profile asked for: `--profile`, else `LASTLINE_PROFILE`.
pub fn profile(flag: Option<&str>) -> Option<String> {
    flag.map(str::to_owned)
        .or_else(|| std::env::var("LASTLINE_PROFILE").ok())
        .filter(|p| !p.is_empty())
}

/// Reads the config file: `explicit` must exist; the default may not (but
/// a profile asked for must be found).
pub fn load(explicit: Option<&Path>, profile: Option<&str>) -> Result<FileSettings, String> {
    let (path, required) = match explicit {
        Some(p) => (p.to_owned(), true),
        None => match default_path() {
            Some(p) => (p, profile.is_some()),
            None => return Ok(FileSettings::default()),
        },
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            warn_if_readable_by_others(&path);
            parse(&text, &path, profile)
        }
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            Ok(FileSettings::default())
        }
        Err(e) => Err(format!("config file {}: {e}", path.display())),
    }
}

/// `lastline config init`: writes a config file readable by its owner
/// only, with the credentials of the environment if set (so `export
/// ...; lastline config init` keeps them) and every setting explained.
/// An existing file is kept unless `force`.
pub fn init(explicit: Option<&Path>, force: bool) -> Result<PathBuf, String> {
    let path = explicit
        .map(Path::to_owned)
        .or_else(default_path)
        .ok_or("no config path: give --config FILE")?;
    if path.exists() && !force {
        return Err(format!(
            "{} exists: kept (--force replaces it)",
            path.display()
        ));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let env = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let quoted = |v: Option<String>, placeholder: &str| match v {
        Some(v) => toml::Value::String(v).to_string(),
        None => format!("\"{placeholder}\""),
    };
    let text = format!(
        "# lastline configuration (TOML). Keep it private: it holds credentials.\n\
         # The top-level settings are the default profile; [profile.NAME]\n\
         # tables are chosen with --profile NAME or LASTLINE_PROFILE.\n\
         \n\
         base_url = {}\n\
         key = {}\n\
         api_token = {}\n\
         # ca = \"/path/to/appliance-ca.pem\"   # trust only this CA (appliances)\n\
         # auth = \"session\"                    # basic (default), session or body\n\
         # proxy = \"http://proxy.example:3128\" # else HTTPS_PROXY etc. from the environment\n\
         # timeout = 60                          # seconds for each read or write\n\
         # deadline = 300                        # seconds for a whole call, retries included\n\
         # retries = 5                           # retries of a failed call\n\
         \n\
         # [profile.lab]\n\
         # base_url = \"https://appliance.lab.example\"\n\
         # key = \"...\"\n\
         # api_token = \"...\"\n",
        quoted(env("LASTLINE_BASE_URL"), DEFAULT_BASE_URL),
        quoted(env("LASTLINE_API_KEY"), "your API key"),
        quoted(env("LASTLINE_API_TOKEN"), "your API token"),
    );
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    // A file that existed keeps its mode through `open`: narrow it too.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    file.write_all(text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(m) = std::fs::metadata(path) {
        if m.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "warning: {} holds credentials and is readable by other users (chmod 600 it)",
                crate::safe::path(path)
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}

/// Key and token: the environment first, then the file.
pub fn credentials(file: &FileSettings) -> Result<(String, String), String> {
    let env = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let key = env("LASTLINE_API_KEY").or_else(|| file.get("key").map(str::to_owned));
    let token = env("LASTLINE_API_TOKEN").or_else(|| file.get("api_token").map(str::to_owned));
    match (key, token) {
        (Some(k), Some(t)) => Ok((k, t)),
        _ => Err(format!(
            "no credentials: set LASTLINE_API_KEY and LASTLINE_API_TOKEN, or put `key = ...` and \
             `api_token = ...` in {} (`lastline config init` writes one; try `lastline demo` to \
             run against a local emulator)",
            file.path
                .clone()
                .or_else(default_path)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "a config file (--config)".into())
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_old_form_is_still_read_and_unknown_settings_refused() {
        let p = Path::new("cfg");
        let s = parse(
            "# mine\nbase_url = https://a.example\napi_key=\"K\"\napi_token = T\n",
            p,
            None,
        )
        .unwrap();
        assert_eq!(s.get("base_url"), Some("https://a.example"));
        assert_eq!((s.get("key"), s.get("api_token")), (Some("K"), Some("T")));
        assert!(parse("colour = blue\n", p, None)
            .unwrap_err()
            .contains("unknown setting"));
        assert!(parse("just words\n", p, None)
            .unwrap_err()
            .contains("cfg:1"));
        // Sections in the old form are refused, not merged.
        let e = parse("key = a\n[prod]\nkey = b\n", p, None).unwrap_err();
        assert!(e.contains("[profile.NAME]"), "{e}");
    }

    #[test]
    fn toml_profiles_override_the_top_level() {
        let p = Path::new("cfg");
        let text = "base_url = \"https://a.example\"\nkey = \"K\"\napi_token = \"T\"\n\
                    [profile.lab]\nbase_url = \"https://lab.example\"\nauth = \"session\"\n";
        let top = parse(text, p, None).unwrap();
        assert_eq!(top.get("base_url"), Some("https://a.example"));
        assert_eq!(top.get("auth"), None);
        let lab = parse(text, p, Some("lab")).unwrap();
        assert_eq!(lab.get("base_url"), Some("https://lab.example"));
        assert_eq!(lab.get("key"), Some("K"), "inherited");
        assert_eq!(lab.get("auth"), Some("session"));
        let e = parse(text, p, Some("prod")).unwrap_err();
        assert!(e.contains("no profile `prod`") && e.contains("lab"), "{e}");
        let e = parse("[profile.x]\ncolour = \"blue\"\n", p, Some("x")).unwrap_err();
        assert!(e.contains("unknown setting `colour`"), "{e}");
        let e = parse("key = 5\n", p, None).unwrap_err();
        assert!(e.contains("must be a string"), "{e}");
        let n = parse(
            "timeout = 30\nretries = 2\ndeadline = 2.5\nproxy = \"http://p:3128\"\n",
            p,
            None,
        )
        .unwrap();
        assert_eq!(
            (
                n.get("timeout"),
                n.get("retries"),
                n.get("deadline"),
                n.get("proxy")
            ),
            (Some("30"), Some("2"), Some("2.5"), Some("http://p:3128"))
        );
        let e = parse("timeout = \"soon\"\n", p, None).unwrap_err();
        assert!(e.contains("must be a number"), "{e}");
        let e = parse("[prod]\nkey = \"K\"\n", p, None).unwrap_err();
        assert!(e.contains("[profile.prod]"), "{e}");
    }
}

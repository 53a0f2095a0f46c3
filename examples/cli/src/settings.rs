//! Where the CLI finds the server and the credentials: environment
//! (`LASTLINE_API_KEY`, `LASTLINE_API_TOKEN`), then a config file — never a
//! command-line flag, which other users could read in `ps`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The default server.
pub const DEFAULT_BASE_URL: &str = "https://analysis.lastline.com";

/// Settings read from the config file (`key = value` lines, `#` comments).
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

/// Parses a config file's text.
pub fn parse(text: &str, path: &Path) -> Result<FileSettings, String> {
    let mut values = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('[') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(format!(
                "{}:{}: expected `name = value`",
                path.display(),
                n + 1
            ));
        };
        let k = k.trim().to_ascii_lowercase();
        if !["base_url", "key", "api_key", "api_token", "ca", "auth"].contains(&k.as_str()) {
            return Err(format!(
                "{}:{}: unknown setting `{k}`",
                path.display(),
                n + 1
            ));
        }
        let k = if k == "api_key" { "key".to_owned() } else { k };
        values.insert(k, v.trim().trim_matches('"').to_owned());
    }
    Ok(FileSettings {
        values,
        path: Some(path.to_owned()),
    })
}

/// Reads the config file: `explicit` must exist; the default may not.
pub fn load(explicit: Option<&Path>) -> Result<FileSettings, String> {
    let (path, required) = match explicit {
        Some(p) => (p.to_owned(), true),
        None => match default_path() {
            Some(p) => (p, false),
            None => return Ok(FileSettings::default()),
        },
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            warn_if_readable_by_others(&path);
            parse(&text, &path)
        }
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            Ok(FileSettings::default())
        }
        Err(e) => Err(format!("config file {}: {e}", path.display())),
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(m) = std::fs::metadata(path) {
        if m.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "warning: {} holds credentials and is readable by other users (chmod 600 it)",
                path.display()
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
             `api_token = ...` in {} (try `lastline demo` to run against a local emulator)",
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
    fn parses_settings_and_refuses_unknown_ones() {
        let p = Path::new("cfg");
        let s = parse(
            "# mine\nbase_url = https://a.example\napi_key=\"K\"\napi_token = T\n",
            p,
        )
        .unwrap();
        assert_eq!(s.get("base_url"), Some("https://a.example"));
        assert_eq!((s.get("key"), s.get("api_token")), (Some("K"), Some("T")));
        assert!(parse("colour = blue\n", p)
            .unwrap_err()
            .contains("unknown setting"));
        assert!(parse("just words\n", p).unwrap_err().contains("cfg:1"));
    }
}

//! The library's version, as macros in the header and at run time.

/// Major version.
pub const LL_VERSION_MAJOR: u32 = 0;
/// Minor version.
pub const LL_VERSION_MINOR: u32 = 1;
/// Patch version.
pub const LL_VERSION_PATCH: u32 = 0;
/// `MAJOR * 10000 + MINOR * 100 + PATCH`: what `ll_version_number()`
/// returns.
pub const LL_VERSION_NUMBER: u32 = 100;

/// The library's version number (`LL_VERSION_NUMBER` of the header it was
/// built with): compare it with the header's to catch a mismatch.
#[no_mangle]
pub extern "C" fn ll_version_number() -> u32 {
    LL_VERSION_NUMBER
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_the_crates() {
        assert_eq!(
            LL_VERSION_NUMBER,
            LL_VERSION_MAJOR * 10000 + LL_VERSION_MINOR * 100 + LL_VERSION_PATCH
        );
        let parts: Vec<u32> = env!("CARGO_PKG_VERSION")
            .split('.')
            .map(|p| p.parse().unwrap())
            .collect();
        assert_eq!(
            parts,
            [LL_VERSION_MAJOR, LL_VERSION_MINOR, LL_VERSION_PATCH]
        );
    }
}

//! Methods by number: `LL_METHOD_*` is the method's place in the core's
//! table ([`METHODS`]), in the reference's order (a test holds each
//! constant to the table). Parameters travel as text, checked against the
//! table before anything is sent.

use core::ffi::c_char;

use lastline_core::request::METHODS;

/// `submit_file`.
pub const LL_METHOD_SUBMIT_FILE: u32 = 0;
/// `submit_url`.
pub const LL_METHOD_SUBMIT_URL: u32 = 1;
/// `get_results`.
pub const LL_METHOD_GET_RESULTS: u32 = 2;
/// `get_result`.
pub const LL_METHOD_GET_RESULT: u32 = 3;
/// `get_result_activities`.
pub const LL_METHOD_GET_RESULT_ACTIVITIES: u32 = 4;
/// `get_report_activities`.
pub const LL_METHOD_GET_REPORT_ACTIVITIES: u32 = 5;
/// `get_result_artifact`.
pub const LL_METHOD_GET_RESULT_ARTIFACT: u32 = 6;
/// `get_report_artifact`.
pub const LL_METHOD_GET_REPORT_ARTIFACT: u32 = 7;
/// `get_completed`.
pub const LL_METHOD_GET_COMPLETED: u32 = 8;
/// `get_completed_with_metadata`.
pub const LL_METHOD_GET_COMPLETED_WITH_METADATA: u32 = 9;
/// `get_pending`.
pub const LL_METHOD_GET_PENDING: u32 = 10;
/// `get_progress`.
pub const LL_METHOD_GET_PROGRESS: u32 = 11;
/// `get_task_metadata`.
pub const LL_METHOD_GET_TASK_METADATA: u32 = 12;
/// `query_file_hash`.
pub const LL_METHOD_QUERY_FILE_HASH: u32 = 13;
/// `is_blocked_file_hash`.
pub const LL_METHOD_IS_BLOCKED_FILE_HASH: u32 = 14;
/// `query_task_artifact`.
pub const LL_METHOD_QUERY_TASK_ARTIFACT: u32 = 15;
/// `get_network_iocs`.
pub const LL_METHOD_GET_NETWORK_IOCS: u32 = 16;
/// `get_ioc_metadata`.
pub const LL_METHOD_GET_IOC_METADATA: u32 = 17;
/// `get_ioc_report`.
pub const LL_METHOD_GET_IOC_REPORT: u32 = 18;
/// `create_ioc_from_result`.
pub const LL_METHOD_CREATE_IOC_FROM_RESULT: u32 = 19;
/// `get_api_utc_timestamp`.
pub const LL_METHOD_GET_API_UTC_TIMESTAMP: u32 = 20;
/// `get_analysis_tags`.
pub const LL_METHOD_GET_ANALYSIS_TAGS: u32 = 21;
/// `get_child_tasks_recursively`.
pub const LL_METHOD_GET_CHILD_TASKS_RECURSIVELY: u32 = 22;
/// `export_report`.
pub const LL_METHOD_EXPORT_REPORT: u32 = 23;
/// `get_completed_exported_reports`.
pub const LL_METHOD_GET_COMPLETED_EXPORTED_REPORTS: u32 = 24;
/// `get_exported_report`.
pub const LL_METHOD_GET_EXPORTED_REPORT: u32 = 25;
/// `is_risky_analysis_artifact`.
pub const LL_METHOD_IS_RISKY_ANALYSIS_ARTIFACT: u32 = 26;
/// `login`.
pub const LL_METHOD_LOGIN: u32 = 27;
/// `ping`.
pub const LL_METHOD_PING: u32 = 28;

/// How many methods there are.
pub const LL_METHOD_COUNT: u32 = 29;

/// A parameter of a call: its name in the reference and its value, both
/// NUL-terminated UTF-8.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ll_param {
    /// The parameter's name (`uuid`, `after`...).
    pub name: *const c_char,
    /// Its value as text (`1` / `0` for flags, `YYYY-MM-DD HH:MM:SS` for
    /// times).
    pub value: *const c_char,
}

/// The method named `name` (NUL-terminated, as in the reference), or -1.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn ll_method_id(name: *const c_char) -> i32 {
    // SAFETY: as the caller promised; names are short.
    let Ok(Some(name)) = (unsafe { crate::handle::c_text(name, 64) }) else {
        return -1;
    };
    METHODS
        .iter()
        .position(|m| m.name == name)
        .and_then(|i| i32::try_from(i).ok())
        .unwrap_or(-1)
}

/// The name of method `id` as a static NUL-terminated string, or NULL
/// past the table.
#[no_mangle]
pub extern "C" fn ll_method_name(id: u32) -> *const c_char {
    usize::try_from(id)
        .ok()
        .and_then(|i| NAMES.get(i))
        .map_or(core::ptr::null(), |n| n.as_ptr().cast::<c_char>())
}

/// The names NUL-terminated, in the table's order (a test holds them to
/// the table).
static NAMES: [&[u8]; 29] = [
    b"submit_file\0",
    b"submit_url\0",
    b"get_results\0",
    b"get_result\0",
    b"get_result_activities\0",
    b"get_report_activities\0",
    b"get_result_artifact\0",
    b"get_report_artifact\0",
    b"get_completed\0",
    b"get_completed_with_metadata\0",
    b"get_pending\0",
    b"get_progress\0",
    b"get_task_metadata\0",
    b"query_file_hash\0",
    b"is_blocked_file_hash\0",
    b"query_task_artifact\0",
    b"get_network_iocs\0",
    b"get_ioc_metadata\0",
    b"get_ioc_report\0",
    b"create_ioc_from_result\0",
    b"get_api_utc_timestamp\0",
    b"get_analysis_tags\0",
    b"get_child_tasks_recursively\0",
    b"export_report\0",
    b"get_completed_exported_reports\0",
    b"get_exported_report\0",
    b"is_risky_analysis_artifact\0",
    b"login\0",
    b"ping\0",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_numbers_are_the_tables() {
        let ours = [
            LL_METHOD_SUBMIT_FILE,
            LL_METHOD_SUBMIT_URL,
            LL_METHOD_GET_RESULTS,
            LL_METHOD_GET_RESULT,
            LL_METHOD_GET_RESULT_ACTIVITIES,
            LL_METHOD_GET_REPORT_ACTIVITIES,
            LL_METHOD_GET_RESULT_ARTIFACT,
            LL_METHOD_GET_REPORT_ARTIFACT,
            LL_METHOD_GET_COMPLETED,
            LL_METHOD_GET_COMPLETED_WITH_METADATA,
            LL_METHOD_GET_PENDING,
            LL_METHOD_GET_PROGRESS,
            LL_METHOD_GET_TASK_METADATA,
            LL_METHOD_QUERY_FILE_HASH,
            LL_METHOD_IS_BLOCKED_FILE_HASH,
            LL_METHOD_QUERY_TASK_ARTIFACT,
            LL_METHOD_GET_NETWORK_IOCS,
            LL_METHOD_GET_IOC_METADATA,
            LL_METHOD_GET_IOC_REPORT,
            LL_METHOD_CREATE_IOC_FROM_RESULT,
            LL_METHOD_GET_API_UTC_TIMESTAMP,
            LL_METHOD_GET_ANALYSIS_TAGS,
            LL_METHOD_GET_CHILD_TASKS_RECURSIVELY,
            LL_METHOD_EXPORT_REPORT,
            LL_METHOD_GET_COMPLETED_EXPORTED_REPORTS,
            LL_METHOD_GET_EXPORTED_REPORT,
            LL_METHOD_IS_RISKY_ANALYSIS_ARTIFACT,
            LL_METHOD_LOGIN,
            LL_METHOD_PING,
        ];
        assert_eq!(ours.len(), METHODS.len());
        assert_eq!(LL_METHOD_COUNT as usize, METHODS.len());
        for (i, (id, m)) in ours.iter().zip(METHODS.iter()).enumerate() {
            assert_eq!(*id as usize, i);
            assert_eq!(&NAMES[i][..NAMES[i].len() - 1], m.name.as_bytes());
            let c = std::ffi::CString::new(m.name).unwrap();
            // SAFETY: a NUL-terminated string.
            assert_eq!(unsafe { ll_method_id(c.as_ptr()) }, i as i32);
            // SAFETY: a static NUL-terminated string.
            let back = unsafe { core::ffi::CStr::from_ptr(ll_method_name(*id)) };
            assert_eq!(back.to_str().unwrap(), m.name);
        }
        assert!(ll_method_name(LL_METHOD_COUNT).is_null());
        // SAFETY: NUL-terminated or NULL.
        unsafe {
            assert_eq!(ll_method_id(b"get_everything\0".as_ptr().cast()), -1);
            assert_eq!(ll_method_id(core::ptr::null()), -1);
        }
    }
}

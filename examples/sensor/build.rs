//! The board's memory map, and the pinned CA (`SENSOR_CA_DER`, a DER file;
//! by default the committed example CA).
fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let qemu = std::env::var_os("CARGO_FEATURE_QEMU").is_some();
    // Not named memory.x here: the linker would find that one first.
    let memory = if qemu {
        "memory-mps2.x"
    } else {
        "memory-standin.x"
    };
    std::fs::copy(memory, out.join("memory.x")).unwrap();
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory-standin.x");
    println!("cargo:rerun-if-changed=memory-mps2.x");
    let ca = std::env::var("SENSOR_CA_DER").unwrap_or_else(|_| "pinned-ca.der".into());
    std::fs::copy(&ca, out.join("pinned-ca.der"))
        .unwrap_or_else(|e| panic!("SENSOR_CA_DER={ca}: {e}"));
    println!("cargo:rerun-if-env-changed=SENSOR_CA_DER");
    println!("cargo:rerun-if-changed={ca}");
}

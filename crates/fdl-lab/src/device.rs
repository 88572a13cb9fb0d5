//! Backend and dtype selection: the only place that knows which backends are compiled in.

use crate::error::LabError;
use burn::tensor::{DType, Device, FloatDType};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

/// A Burn backend compiled into this binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Burn's pure-Rust CPU backend (gemm, rayon, SIMD): the default.
    Flex,
    /// Burn's ndarray CPU backend (feature `ndarray`; deprecated upstream).
    Ndarray,
    /// wgpu: a GPU, or software Vulkan (lavapipe) where none exists (feature `wgpu`).
    Wgpu,
    /// CUDA: an NVIDIA GPU through its driver and NVRTC, loaded at run time (feature `cuda`).
    Cuda,
}

/// Floating-point precision of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats.
    F32,
    /// 64-bit floats (implicit-bias experiments: margins pass 745 and exp underflows).
    F64,
}

impl BackendKind {
    /// The backends compiled into this build.
    pub fn compiled() -> Vec<BackendKind> {
        let mut kinds = vec![BackendKind::Flex];
        if cfg!(feature = "ndarray") {
            kinds.push(BackendKind::Ndarray);
        }
        if cfg!(feature = "wgpu") {
            kinds.push(BackendKind::Wgpu);
        }
        if cfg!(feature = "cuda") {
            kinds.push(BackendKind::Cuda);
        }
        kinds
    }

    /// Every backend fdl knows, compiled in or not.
    pub fn all() -> [BackendKind; 4] {
        [
            BackendKind::Flex,
            BackendKind::Ndarray,
            BackendKind::Wgpu,
            BackendKind::Cuda,
        ]
    }

    /// Lower-case name as used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Flex => "flex",
            BackendKind::Ndarray => "ndarray",
            BackendKind::Wgpu => "wgpu",
            BackendKind::Cuda => "cuda",
        }
    }

    /// Whether this backend runs on an accelerator whose runtime is found only when first used.
    fn is_gpu(self) -> bool {
        matches!(self, BackendKind::Wgpu | BackendKind::Cuda)
    }

    /// What a machine needs before this backend can start.
    fn requirement(self) -> &'static str {
        match self {
            BackendKind::Flex | BackendKind::Ndarray => "nothing beyond this binary",
            BackendKind::Wgpu => {
                "a Vulkan loader (libvulkan1) and a GPU driver, or Mesa's lavapipe for software \
                 Vulkan; VK_DRIVER_FILES may name the driver's ICD file"
            }
            BackendKind::Cuda => {
                "an NVIDIA GPU with its driver (libcuda.so) and NVRTC (libnvrtc.so from the CUDA \
                 13 toolkit) on the library path"
            }
        }
    }
}

impl Precision {
    /// Lower-case name as used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        }
    }
}

fn base_device(kind: BackendKind) -> Result<Device, LabError> {
    let missing = |feature: &str| {
        LabError::Usage(format!(
            "device '{}' is not compiled in; rebuild with `--features {feature}` (compiled: {})",
            kind.name(),
            BackendKind::compiled()
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    };
    match kind {
        BackendKind::Flex => Ok(Device::flex()),
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)]
        BackendKind::Ndarray => Ok(Device::ndarray()),
        #[cfg(not(feature = "ndarray"))]
        BackendKind::Ndarray => Err(missing("ndarray")),
        #[cfg(feature = "wgpu")]
        BackendKind::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
        #[cfg(not(feature = "wgpu"))]
        BackendKind::Wgpu => Err(missing("wgpu")),
        #[cfg(feature = "cuda")]
        BackendKind::Cuda => Ok(Device::cuda(burn::tensor::DeviceIndex::Default)),
        #[cfg(not(feature = "cuda"))]
        BackendKind::Cuda => Err(missing("cuda")),
    }
}

/// An autodiff device of `kind` whose default float type is `dtype`.
///
/// Burn fixes a device's dtype at its first use, process-wide: asking for a second dtype on the
/// same backend in one process is an error. A GPU backend is started here, with a one-element
/// round trip: a missing driver or adapter is a one-line [`LabError::Device`] naming what to
/// install, not a panic deep inside the runtime.
pub fn init_device(kind: BackendKind, dtype: Precision) -> Result<Device, LabError> {
    let device = base_device(kind)?;
    if !kind.is_gpu() {
        return configure(device, kind, dtype);
    }
    catch_panic(|| configure(device, kind, dtype).and_then(|d| round_trip(d, kind)))
        .unwrap_or_else(|message| Err(could_not_start(kind, &message)))
}

/// Starts `kind` (a one-element round trip in its default precision) and returns the precisions
/// it supports (`fdl devices`). Leaves the backend's dtype fixed at its default for this process.
pub fn probe(kind: BackendKind) -> Result<Vec<Precision>, LabError> {
    let device = base_device(kind)?;
    let started = catch_panic(|| {
        let supported: Vec<Precision> =
            [(Precision::F32, DType::F32), (Precision::F64, DType::F64)]
                .into_iter()
                .filter(|&(_, dtype)| device.supports_dtype(dtype))
                .map(|(precision, _)| precision)
                .collect();
        round_trip(device, kind).map(|_| supported)
    });
    started.unwrap_or_else(|message| Err(could_not_start(kind, &message)))
}

fn could_not_start(kind: BackendKind, message: &str) -> LabError {
    LabError::Device(format!(
        "{} could not start ({message}); it needs {}",
        kind.name(),
        kind.requirement()
    ))
}

fn configure(mut device: Device, kind: BackendKind, dtype: Precision) -> Result<Device, LabError> {
    let float = match dtype {
        Precision::F32 => FloatDType::F32,
        Precision::F64 => FloatDType::F64,
    };
    if let Err(e) = device.configure(float) {
        // Already fixed earlier in this process: fine if it is the dtype we want.
        if device.settings().float_dtype != float {
            return Err(LabError::Device(format!(
                "cannot run {} in {}: {e}; try another --dtype or --device",
                kind.name(),
                dtype.name()
            )));
        }
    }
    Ok(device.autodiff())
}

/// Writes one number to the device and reads it back: the first use that starts a GPU runtime.
fn round_trip(device: Device, kind: BackendKind) -> Result<Device, LabError> {
    let probe = burn::tensor::Tensor::<1>::from_floats([2.0], &device);
    let back = probe.into_data().iter::<f64>().next();
    if back != Some(2.0) {
        return Err(LabError::Device(format!(
            "{} gave back {back:?} for the value 2.0 written to it",
            kind.name()
        )));
    }
    Ok(device)
}

/// Whether a probe is running: then panics on every thread are recorded, not printed.
static PROBING: AtomicUsize = AtomicUsize::new(0);
/// The first panic message recorded while probing: a GPU runtime starts its device on a thread of
/// its own, and the caller only sees that thread's channel close (`RecvError`).
static FIRST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Installs, once, a panic hook that records instead of printing while a probe runs and hands
/// every other panic to the hook it replaced.
fn install_probe_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if PROBING.load(Ordering::SeqCst) == 0 {
                return previous(info);
            }
            let mut first = FIRST_PANIC.lock().unwrap_or_else(|p| p.into_inner());
            if first.is_none() {
                *first = Some(first_line(info.payload()));
            }
        }));
    });
}

fn first_line(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("the runtime panicked");
    text.lines().next().unwrap_or_default().trim().to_string()
}

/// Runs `f`, turning a panic into a one-line message: the first panic on any thread while `f`
/// ran (the runtime's own reason), else the caller's.
fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    // One probe at a time, so that a recorded panic belongs to this one.
    static ONE_PROBE: Mutex<()> = Mutex::new(());
    let _one = ONE_PROBE.lock().unwrap_or_else(|p| p.into_inner());
    install_probe_hook();
    *FIRST_PANIC.lock().unwrap_or_else(|p| p.into_inner()) = None;
    PROBING.fetch_add(1, Ordering::SeqCst);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    PROBING.fetch_sub(1, Ordering::SeqCst);
    let first = FIRST_PANIC.lock().unwrap_or_else(|p| p.into_inner()).take();
    result.map_err(|payload| first.unwrap_or_else(|| first_line(payload.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_first_line() {
        let caught = catch_panic(|| -> u32 { panic!("no adapter found\nbacktrace ...") });
        assert_eq!(caught, Err("no adapter found".to_string()));
        assert_eq!(catch_panic(|| 7), Ok(7));
        let formatted = catch_panic(|| -> () { panic!("{} GPUs", 0) });
        assert_eq!(formatted, Err("0 GPUs".to_string()));
    }

    #[test]
    fn a_runtime_thread_panic_is_the_reason_given() {
        // As cubecl does: the device starts on its own thread; the caller sees a closed channel.
        let caught = catch_panic(|| {
            let (send, receive) = std::sync::mpsc::channel::<u32>();
            let runtime = std::thread::spawn(move || {
                let _send = send;
                panic!("libcuda.so: cannot open shared object file");
            });
            let _ = runtime.join();
            receive.recv().unwrap()
        });
        assert_eq!(
            caught,
            Err("libcuda.so: cannot open shared object file".to_string())
        );
    }

    #[test]
    fn the_cpu_backends_need_no_probe() {
        assert!(!BackendKind::Flex.is_gpu());
        assert!(BackendKind::Cuda.is_gpu() && BackendKind::Wgpu.is_gpu());
        assert!(BackendKind::Cuda.requirement().contains("libnvrtc"));
        assert!(BackendKind::Wgpu.requirement().contains("libvulkan1"));
    }
}

//! Runtime pieces every `no_std` SBF harness here needs (included by path, for
//! `target_os = "none"` only): the C memory functions as the SBF syscalls, and the panic
//! handler.

mod mem {
    extern "C" {
        fn sol_memcpy_(dst: *mut u8, src: *const u8, n: u64);
        fn sol_memmove_(dst: *mut u8, src: *const u8, n: u64);
        fn sol_memset_(s: *mut u8, c: u8, n: u64);
        fn sol_memcmp_(a: *const u8, b: *const u8, n: u64, result: *mut i32);
    }

    /// # Safety
    /// C `memcpy`.
    #[no_mangle]
    pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        sol_memcpy_(dst, src, n as u64);
        dst
    }

    /// # Safety
    /// C `memmove`.
    #[no_mangle]
    pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        sol_memmove_(dst, src, n as u64);
        dst
    }

    /// # Safety
    /// C `memset`.
    #[no_mangle]
    pub unsafe extern "C" fn memset(s: *mut u8, c: i32, n: usize) -> *mut u8 {
        sol_memset_(s, c as u8, n as u64);
        s
    }

    /// # Safety
    /// C `memcmp`.
    #[no_mangle]
    pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
        let mut r = 0i32;
        sol_memcmp_(a, b, n as u64, &mut r);
        r
    }

    /// # Safety
    /// C `bcmp`.
    #[no_mangle]
    pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
        memcmp(a, b, n)
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

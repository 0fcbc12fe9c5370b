/* The control core's memory map: the one source for both the firmware (C) and the model (C++).
 * Addresses are physical; the core has no MMU. See docs/CORE.md. */
#ifndef MXEMU_PLATFORM_H
#define MXEMU_PLATFORM_H

#ifdef __cplusplus
extern "C" {
#endif

/* CLINT-style timer: mtime counts core cycles / MXEMU_TIMER_DIVIDER (see sysregs TIMER_HZ). */
#define MXEMU_TIMER_BASE 0x02000000u
#define MXEMU_TIMER_SIZE 0x00010000u
#define MXEMU_TIMER_MSIP 0x0000u     /* 32-bit: bit 0 = machine software interrupt pending */
#define MXEMU_TIMER_MTIMECMP 0x4000u /* 64-bit */
#define MXEMU_TIMER_MTIME 0xBFF8u    /* 64-bit */

/* Console: a byte written to TX is printed; STATUS reads 1 (always ready). */
#define MXEMU_CONSOLE_BASE 0x10000000u
#define MXEMU_CONSOLE_SIZE 0x00001000u
#define MXEMU_CONSOLE_TX 0x0u
#define MXEMU_CONSOLE_STATUS 0x4u

/* System registers (read-only, 32-bit). */
#define MXEMU_SYSREG_BASE 0x10001000u
#define MXEMU_SYSREG_SIZE 0x00001000u
#define MXEMU_SYSREG_CHIP_ID 0x00u
#define MXEMU_SYSREG_CORE_HZ 0x04u
#define MXEMU_SYSREG_RAM_BASE 0x08u
#define MXEMU_SYSREG_RAM_SIZE 0x0Cu
#define MXEMU_SYSREG_TIMER_HZ 0x10u
#define MXEMU_SYSREG_HART_ID 0x14u

/* Reserved for the accelerator: command queues, semaphores (attached by the chip model). */
#define MXEMU_ACCEL_BASE 0x20000000u
#define MXEMU_ACCEL_SIZE 0x10000000u

/* Launch block: host <-> firmware tensor table (RAM, filled by the runner). */
#define MXEMU_LAUNCH_BASE 0x30000000u
#define MXEMU_LAUNCH_SIZE 0x00010000u

/* Core RAM: size from the config (default 1 MiB), readable from sysregs RAM_SIZE. */
#define MXEMU_RAM_BASE 0x80000000u
#define MXEMU_RAM_DEFAULT_SIZE 0x00100000u

#ifdef __cplusplus
}
#endif

#endif /* MXEMU_PLATFORM_H */

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Userspace stand-in for the kernel's <linux/types.h> and the few kernel
 * macros the pure-logic kernel files use, so the unit tests compile those
 * files unchanged.
 */
#ifndef _KUNIT_SHIM_TYPES_H
#define _KUNIT_SHIM_TYPES_H

#include_next <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
typedef uint64_t dma_addr_t;

#define BIT(n)		(1UL << (n))
#define READ_ONCE(x)	(*(const volatile __typeof__(x) *)&(x))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#endif

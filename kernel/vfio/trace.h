/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tracepoints of vgpu_vfio: the trapped access path, faults and interrupts
 * (what the benchmarks and a debugging session want to see, without printk).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vgpu_vfio

#if !defined(_VGPU_VFIO_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VGPU_VFIO_TRACE_H

#include <linux/mm_types.h>
#include <linux/tracepoint.h>

TRACE_EVENT(vgpu_vfio_access,
	TP_PROTO(unsigned int cookie, unsigned int index, u64 off,
		 unsigned int size, bool write, u64 val, int ret),
	TP_ARGS(cookie, index, off, size, write, val, ret),
	TP_STRUCT__entry(
		__field(unsigned int, cookie)
		__field(unsigned int, index)
		__field(u64, off)
		__field(unsigned int, size)
		__field(bool, write)
		__field(u64, val)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->cookie = cookie;
		__entry->index = index;
		__entry->off = off;
		__entry->size = size;
		__entry->write = write;
		__entry->val = val;
		__entry->ret = ret;
	),
	TP_printk("vgpu %u region %u %s %u@0x%llx val 0x%llx ret %d",
		  __entry->cookie, __entry->index,
		  __entry->write ? "write" : "read", __entry->size,
		  __entry->off, __entry->val, __entry->ret)
);

TRACE_EVENT(vgpu_vfio_fault,
	TP_PROTO(unsigned int cookie, unsigned int index, u64 off,
		 unsigned long pages, vm_fault_t ret),
	TP_ARGS(cookie, index, off, pages, ret),
	TP_STRUCT__entry(
		__field(unsigned int, cookie)
		__field(unsigned int, index)
		__field(u64, off)
		__field(unsigned long, pages)
		__field(unsigned int, ret)
	),
	TP_fast_assign(
		__entry->cookie = cookie;
		__entry->index = index;
		__entry->off = off;
		__entry->pages = pages;
		/* vm_fault_t is a sparse-restricted type: record its bits */
		__entry->ret = (__force unsigned int)ret;
	),
	TP_printk("vgpu %u region %u offset 0x%llx mapped %lu pages vm_fault 0x%x",
		  __entry->cookie, __entry->index, __entry->off,
		  __entry->pages, __entry->ret)
);

TRACE_EVENT(vgpu_vfio_irq,
	TP_PROTO(unsigned int cookie, int type, unsigned int vector, int ret),
	TP_ARGS(cookie, type, vector, ret),
	TP_STRUCT__entry(
		__field(unsigned int, cookie)
		__field(int, type)
		__field(unsigned int, vector)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->cookie = cookie;
		__entry->type = type;
		__entry->vector = vector;
		__entry->ret = ret;
	),
	TP_printk("vgpu %u irq type %d vector %u ret %d", __entry->cookie,
		  __entry->type, __entry->vector, __entry->ret)
);

#endif /* _VGPU_VFIO_TRACE_H */

/* Found through the -I of kernel/ that Kbuild adds. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH vfio
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>

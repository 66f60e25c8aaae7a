// SPDX-License-Identifier: GPL-2.0-only
/*
 * The lab harness's self-test breaks its own guest in the two ways that
 * leave a console with nothing from the command: a CPU stuck in the kernel
 * (how=lockup), and a CPU that resets the machine (how=reset, a triple
 * fault). Never loaded outside that test.
 */
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/string.h>
#include <linux/irqflags.h>
#include <asm/desc_defs.h>
#include <asm/processor.h>

static char *how = "";
module_param(how, charp, 0444);
MODULE_PARM_DESC(how, "lockup or reset");

static int __init lab_crash_init(void)
{
	if (!strcmp(how, "lockup")) {
		/* Interrupts stay on: the watchdog's timer must see it. */
		preempt_disable();
		for (;;)
			cpu_relax();
	}
	if (!strcmp(how, "reset")) {
		struct desc_ptr none = { .size = 0, .address = 0 };

		/* An exception with no IDT: #GP, then #DF, then a shutdown. */
		local_irq_disable();
		asm volatile("lidt %0\n\tint3" : : "m"(none));
	}
	return -EINVAL;
}
module_init(lab_crash_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Breaks the lab's guest on purpose, for the lab's self-test");

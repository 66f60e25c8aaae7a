// SPDX-License-Identifier: GPL-2.0-only
/* skeleton */
#include "internal.h"

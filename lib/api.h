/* SPDX-License-Identifier: MIT */
/*
 * api.h - marks the definitions of libhwbp's public functions
 *
 * The library is built with -fvisibility=hidden, so only definitions marked
 * HWBP_API (exactly the functions declared in hwbp.h) are exported from the
 * shared object. Internal hwbp_* symbols stay reachable from the static
 * archive, which is what the unit tests link against.
 */
#ifndef HWBP_API_H
#define HWBP_API_H

#define HWBP_API __attribute__((visibility("default")))

#endif /* HWBP_API_H */

// SPDX-License-Identifier: MIT
// nsfun – how the implementation is built: compiled once into libnsfun (the default), or
// header-only (NSFUN_HEADER_ONLY).
#pragma once

// The implementation lives in <nsfun/impl/*.ipp>, one file per public header, as {fmt}'s lives in
// format-inl.h. Compiled (target nsfun::nsfun): src/*.cpp include each .ipp once, NSFUN_INLINE is
// empty and the functions are ordinary definitions in libnsfun. Header-only (target
// nsfun::header_only, or -DNSFUN_HEADER_ONLY by hand): each public header includes its .ipp at its
// end and NSFUN_INLINE is `inline`, so no nsfun library is linked. A program uses one mode or the
// other, never both.
//
// Private helpers in the .ipp files are `inline` in both modes and live in nsfun::detail (or
// nsfun::net::detail); no .ipp defines a macro that outlives it.
#ifdef NSFUN_HEADER_ONLY
#  define NSFUN_INLINE inline
#else
#  define NSFUN_INLINE
#endif

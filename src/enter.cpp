// SPDX-License-Identifier: MIT
// nsfun – compiled once: unshare, enter, ScopedEnter and run_in (<nsfun/impl/enter.ipp>).
#include <nsfun/impl/enter.ipp>

// SPDX-License-Identifier: MIT
// nsfun – compiled once: pins and named network namespaces (<nsfun/impl/persist.ipp>).
#include <nsfun/impl/persist.ipp>

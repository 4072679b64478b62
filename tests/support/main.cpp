// SPDX-License-Identifier: MIT
// nsfun tests – the doctest runner.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

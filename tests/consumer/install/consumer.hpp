// SPDX-License-Identifier: MIT
// nsfun consumer test – what main.cpp uses from second.cpp.
#pragma once

/// 0 when <nsfun/nsfun.hpp> works in a second translation unit of the same program.
int consumer_second();

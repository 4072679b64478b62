// SPDX-License-Identifier: MIT
// nsfun – library version; CMake reads the numbers from this file.
#pragma once

#define NSFUN_VERSION_MAJOR 0
#define NSFUN_VERSION_MINOR 1
#define NSFUN_VERSION_PATCH 0

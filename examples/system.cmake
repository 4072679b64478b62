# SPDX-License-Identifier: MIT
# Recipes 10 and 15-20 (see examples/CMakeLists.txt).
nsfun_example(mount_private)

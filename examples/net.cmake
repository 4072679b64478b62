# SPDX-License-Identifier: MIT
# Recipes 8 and 9 (see examples/CMakeLists.txt): nsfun::net.
nsfun_example(net_cheatsheet NET)

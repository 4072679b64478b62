# SPDX-License-Identifier: MIT
# Recipes 8 and 9 (see examples/CMakeLists.txt): nsfun::net.
nsfun_example(veth_pair NET)       # 8 a veth pair between two namespaces, a TCP round trip
nsfun_example(nat_masquerade NET)  # 9 NAT a namespace to an "outside" one
nsfun_example(net_cheatsheet NET)  # the cheatsheet's ip sequence (bench/net_compare.sh runs it)

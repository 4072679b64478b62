# SPDX-License-Identifier: MIT
# Recipes 1-7 and 11-14 (see examples/CMakeLists.txt).
nsfun_example(print_namespaces)
nsfun_example(list_namespaces)
nsfun_example(uts_hostname)
nsfun_example(pid_namespace)
nsfun_example(user_root)
nsfun_example(enter_process)

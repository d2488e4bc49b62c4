# shellcheck shell=bash
# Configure and build one CMake preset (see CMakePresets.json). Requires common.sh.

# The build directory of a preset (the presets put every build under build/<preset>).
phigate_build_dir() {
  printf '%s/build/%s\n' "$PHIGATE_ROOT" "${1:-release}"
}

# The gateway binary a preset produces.
phigate_bin() {
  printf '%s/gateway/phigate\n' "$(phigate_build_dir "${1:-release}")"
}

# phigate_configure [preset]: configures once; afterwards Ninja re-runs CMake itself when a CMakeLists.txt
# changes, so an unchanged tree costs one no-op ninja run.
phigate_configure() {
  local preset="${1:-release}"
  if [[ ! -f "$(phigate_build_dir "$preset")/build.ninja" ]]; then
    phigate_info "build: configuring preset $preset"
    (cd "$PHIGATE_ROOT" && cmake --preset "$preset")
  fi
}

# phigate_build [preset [target...]]: configures if needed and builds everything, or only the given targets.
phigate_build() {
  local preset="${1:-release}" targets=("${@:2}")
  phigate_configure "$preset"
  phigate_info "build: building preset $preset${targets[*]:+ (${targets[*]})}"
  (cd "$PHIGATE_ROOT" && cmake --build --preset "$preset" ${targets[@]:+--target "${targets[@]}"})
}

# phigate_targets preset PREFIX: the build targets of a configured preset whose names start with PREFIX.
phigate_targets() {
  local preset="$1" prefix="$2"
  (cd "$PHIGATE_ROOT" && cmake --build --preset "$preset" --target help) |
    sed -n "s/^\(${prefix}[A-Za-z0-9_]*\): .*/\1/p" | sort -u
}

# apt-get that waits for another apt instead of failing at once: unattended-upgrades at boot, another test run or
# another installer may hold the dpkg lock or the package lists lock. Sourced by scripts/test-all.sh.
#   apt_get ARGS...      apt-get with DPkg::Lock::Timeout (waits for the dpkg frontend lock)
#   apt_update ARGS...   apt-get update, retried while another process holds the lists lock, which apt-get update
#                        takes without honouring DPkg::Lock::Timeout (apt 2.6)
# Both give up after APT_LOCK_WAIT_SECONDS (default 600).
APT_LOCK_WAIT_SECONDS="${APT_LOCK_WAIT_SECONDS:-600}"

apt_get() {
  apt-get -o DPkg::Lock::Timeout="$APT_LOCK_WAIT_SECONDS" "$@"
}

apt_update() {
  local deadline=$((SECONDS + APT_LOCK_WAIT_SECONDS)) out status
  while :; do
    status=0
    out="$(apt_get update "$@" 2>&1)" || status=$?
    if [ "$status" -eq 0 ] && ! grep -q 'Could not get lock' <<<"$out"; then
      [ -z "$out" ] || printf '%s\n' "$out"
      return 0
    fi
    if grep -q 'Could not get lock' <<<"$out" && [ "$SECONDS" -lt "$deadline" ]; then
      printf '[apt] another process holds the package lists lock; waiting (up to %ss in all)\n' "$APT_LOCK_WAIT_SECONDS" >&2
      sleep 2
      continue
    fi
    printf '%s\n' "$out" >&2
    [ "$status" -ne 0 ] || status=1
    return "$status"
  done
}

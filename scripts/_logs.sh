# Shared by rotate_logs.sh and log_management.sh: the platform's own log directory, resolved
# the way the platform resolves it (`mcp-trading logs --path`: MCP_TRADING_LOG_DIR, else
# <MCP_TRADING_DATA_DIR>/logs), and refused when it is a system directory. Sourced, not run.

# platform_log_dir: prints the directory; fails (non-zero, with the reason) when it cannot be
# resolved, does not exist, or is too broad to be the platform's own (/, /var/log, $HOME)
platform_log_dir() {
  local dir
  if [ -n "${_PLATFORM_LOG_DIR:-}" ]; then printf '%s\n' "$_PLATFORM_LOG_DIR"; return 0; fi  # resolved by the caller
  dir=$("$CLI" logs --path) || { echo "❌ cannot resolve the log directory (mcp-trading logs --path failed)" >&2; return 1; }
  dir=$(cd "$dir" 2>/dev/null && pwd -P) || { echo "❌ log directory $dir does not exist (nothing has run with these settings?)" >&2; return 1; }
  case "$dir" in
    / | /var | /var/log | /tmp | /home | "${HOME:-/nonexistent}")
      echo "❌ refusing to manage $dir: not the platform's own log directory (set MCP_TRADING_LOG_DIR)" >&2
      return 1 ;;
  esac
  printf '%s\n' "$dir"
}

# setting NAME: one effective setting of the platform (`mcp-trading settings --json`, read once
# per script and handed to the scripts it runs)
setting() {
  if [ -z "${_PLATFORM_SETTINGS:-}" ]; then
    _PLATFORM_SETTINGS=$("$CLI" settings --json) || { echo "❌ cannot read the settings (mcp-trading settings --json failed)" >&2; return 1; }
    export _PLATFORM_SETTINGS
  fi
  printf '%s' "$_PLATFORM_SETTINGS" | field "$1"
}

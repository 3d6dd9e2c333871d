#!/usr/bin/env bash
# Regenerates the committed shell completions from the CLI definition (a test checks them).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run -q -- completions bash > completions/pymem.bash
cargo run -q -- completions zsh > completions/_pymem
cargo run -q -- completions fish > completions/pymem.fish

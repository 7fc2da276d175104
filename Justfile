# The seed benchmark's recipes, on orchestrate, so its users keep their habits.
# Run with `npx just RECIPE` (rust-just is a dev dependency); `npm ci` once first.
# The server is $OPENAI_API_URL (default http://127.0.0.1:8000), its token $OPENAI_API_KEY.
# Results go to results/EXP_NAME. Unlike the seed, `bench` needs no separate aggregation step:
# the coordinator writes all-parts/ itself (window throughput, pooled percentiles, and the
# seed's sums beside them).

# `--no-install`: never fetch anything from the registry, always this checkout's CLI.
orchestrate := "npx --no-install orchestrate"

# Show the recipes
default:
    @just --list

# Usage: just bench EXP_NAME [SCALING]     e.g. just bench my-exp 4
# Benchmark every concurrency level (4 … 128 per client) with SCALING parallel clients
bench EXP_NAME SCALING="1":
    {{ orchestrate }} bench "{{ EXP_NAME }}" -s {{ SCALING }}

# Usage: just bench-conc EXP_NAME SCALING CONCURRENCY     e.g. just bench-conc my-exp 8 "4,8,16,32"
# Benchmark chosen concurrency levels
bench-conc EXP_NAME SCALING CONCURRENCY:
    {{ orchestrate }} bench "{{ EXP_NAME }}" -s {{ SCALING }} -c "{{ CONCURRENCY }}"

# One short streamed completion against $OPENAI_API_URL
smoke:
    {{ orchestrate }} smoke

# Usage: just clean [EXP_NAME]
# End benchmark clients a crashed run left behind (by the PIDs it recorded, never by name)
clean EXP_NAME="":
    {{ orchestrate }} clean "results/{{ EXP_NAME }}"

# Usage: just results [EXP_PATH ...]     e.g. just results results/rayoss251-x*
# List the experiments, or show the given ones (ours or folders of vllm bench JSON)
results *ARGS:
    {{ orchestrate }} results {{ ARGS }}

#!/usr/bin/env bash
# The main job on the bundled real model: compress TinyStories-260K (data/stories260K.safetensors),
# show what compression did per tensor, verify the result bit for bit, and decompress it back.
set -euo pipefail
source "$(dirname "$0")/env.sh"
bash "$ZIPSERV_ROOT/scripts/setup-debian.sh"
cmake -S "$ZIPSERV_ROOT" -B "$ZIPSERV_BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$ZIPSERV_BUILD" --target zipserv -j "$ZIPSERV_JOBS"

zipserv="$ZIPSERV_BUILD/tools/zipserv/zipserv"
model="$ZIPSERV_ROOT/data/stories260K.safetensors"
out="$ZIPSERV_BUILD/demo"
mkdir -p "$out"
rm -f "$out/stories260K.zipserv.safetensors" "$out/stories260K.roundtrip.safetensors"
set -x
"$zipserv" compress "$model" "$out/stories260K.zipserv.safetensors"
"$zipserv" inspect "$out/stories260K.zipserv.safetensors"
"$zipserv" verify "$model" "$out/stories260K.zipserv.safetensors"
"$zipserv" decompress "$out/stories260K.zipserv.safetensors" "$out/stories260K.roundtrip.safetensors"
cmp "$model" "$out/stories260K.roundtrip.safetensors"
"$zipserv" generate "$out/stories260K.zipserv.safetensors" --prompt "Once upon a time" --steps 120 --threads 1
"$zipserv" generate "$out/stories260K.zipserv.safetensors" --prompt "Once upon a time" --steps 120 --threads 1 --compare
{ set +x; } 2>/dev/null
echo "demo: the decompressed file is byte-identical to the original, and the compressed model tells the original's story bit for bit"

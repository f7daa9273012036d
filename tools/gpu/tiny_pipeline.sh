#!/usr/bin/env bash
# GPU job: the whole tiny pipeline of the current `tiny` preset, one step after the other, from the repo root:
#   1. train + evaluate the teacher (tools/gpu/tiny_teacher.py)        -> $W/teacher/
#   2. GSIM-distil + evaluate its one-step student (tools/gpu/tiny_student.py, the preset's recipe) -> $W/student/
#   3. MARVAL-RL of that student, regularised headline run only (tools/gpu/tiny_rl.py)               -> $W/rl/
# Each stage puts its model where the next one loads it (data/tiny_teacher.pt, data/tiny_student.pt), so run it in a
# copy of the repository when the working tree must not change:
#   cp -r . /tmp/snap && cd /tmp/snap && bash tools/gpu/tiny_pipeline.sh /tmp/tiny_pipeline
# Writes $W.tgz (everything small enough to commit: models, JSON reports, logs, grids, curves; samples as .npz).
set -uo pipefail
W=${1:-/tmp/tiny_pipeline}
TEACHER_S=${TEACHER_S:-390}
STUDENT_S=${STUDENT_S:-300}
RL_S=${RL_S:-70}
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
mkdir -p "$W/teacher" "$W/student" "$W/rl"
date -u +%FT%TZ > "$W/started"
python3 tools/gpu/tiny_teacher.py --out "$W/teacher" --train-seconds "$TEACHER_S" --chunk 1000 --max-steps 60000 \
    --sweep-samples 1000 2>&1 | tee "$W/teacher/stdout.txt"
[ -f "$W/teacher/tiny_teacher.pt" ] || { echo "teacher stage failed"; exit 1; }
cp "$W/teacher/tiny_teacher.pt" data/tiny_teacher.pt
python3 tools/gpu/tiny_student.py --out "$W/student" --train-seconds "$STUDENT_S" --chunk 1000 \
    --overrides '{"lr_gen": 5e-5, "lr_aux": 1e-4, "ema_rate": 0.999}' --gsim '{"w": 1.1}' --no-teacher-timing \
    2>&1 | tee "$W/student/stdout.txt"
[ -f "$W/student/tiny_student.pt" ] || { echo "student stage failed"; exit 1; }
cp "$W/student/tiny_student.pt" data/tiny_student.pt
python3 tools/gpu/tiny_rl.py --out "$W/rl" --batch-size 128 --steps 300 --chunk 100 --max-seconds "$RL_S" \
    --reg-weights 0.01 --curve-samples 1000 2>&1 | tee "$W/rl/stdout.txt"
date -u +%FT%TZ > "$W/finished"
tar czf "$W.tgz" -C "$W" .
echo "pipeline done: $W.tgz"

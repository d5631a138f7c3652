sh -c dd\ if=/dev/loop0\ bs=4096\ skip=16\ count=1\ status=none\ \|\ od\ -A\ d\ -t\ x1\ -v\ \|\ head\ -40

# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pymem_global_optspecs
    string join \n no-index index h/help V/version
end

function __fish_pymem_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pymem_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pymem_using_subcommand
    set -l cmd (__fish_pymem_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pymem -n "__fish_pymem_needs_command" -l no-index -d 'Neither open nor write a snapshot\'s index for this command (parse the JSON again)'
complete -c pymem -n "__fish_pymem_needs_command" -l index -d 'Index a snapshot read from standard input too, in the cache folder (its name is printed on stderr; give it in place of the snapshot later)'
complete -c pymem -n "__fish_pymem_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pymem -n "__fish_pymem_needs_command" -s V -l version -d 'Print version'
complete -c pymem -n "__fish_pymem_needs_command" -f -a "summary" -d 'What is in the heap: capture facts and objects by type or module'
complete -c pymem -n "__fish_pymem_needs_command" -f -a "top" -d 'The biggest retainers (dominator tree) with their paths, or retained bytes by type/module'
complete -c pymem -n "__fish_pymem_needs_command" -f -a "path" -d 'Why objects are alive: shortest labelled paths from a root, e.g. shop._carts[\'u42\'].payload[3]'
complete -c pymem -n "__fish_pymem_needs_command" -f -a "show" -d 'One object: sizes, retained size, referrers and referents with labels, path to a root'
complete -c pymem -n "__fish_pymem_needs_command" -f -a "diff" -d 'What changed between two snapshots: counts and bytes per type or module, new and gone objects'
complete -c pymem -n "__fish_pymem_needs_command" -f -a "leaks" -d 'The containers that grow: leak roots named by their paths, with growth per round'
complete -c pymem -n "__fish_pymem_needs_command" -f -a "gate" -d 'CI leak gate: exit 0 pass, 1 fail (leak roots grew beyond the limits), 2 error'
complete -c pymem -n "__fish_pymem_needs_command" -f -a "caches" -d 'Caches: containers held by modules, classes and long-lived objects, their bounds and growth'
complete -c pymem -n "__fish_pymem_needs_command" -f -a "advise" -d 'Advice with the bytes at stake: __slots__, duplicate strings, empty and over-allocated containers, number lists, caches'
complete -c pymem -n "__fish_pymem_needs_command" -f -a "frag" -d 'Fragmentation: which live blocks pin which pymalloc arenas, so RSS never goes down'
complete -c pymem -n "__fish_pymem_needs_command" -f -a "run" -d 'Run a Python program with snapshots armed: at exit, on a signal, or periodically'
complete -c pymem -n "__fish_pymem_needs_command" -f -a "attach" -d 'Take a snapshot of a running CPython process, which keeps running'
complete -c pymem -n "__fish_pymem_needs_command" -f -a "core" -d 'Take a snapshot of the heap in a core file (from the kernel or gcore)'
complete -c pymem -n "__fish_pymem_needs_command" -f -a "watch" -d 'Take a read-only snapshot when a process\'s RSS reaches a size (before the OOM killer)'
complete -c pymem -n "__fish_pymem_needs_command" -f -a "agent" -d 'Write the capture agent (the pymem_agent package, stdlib only), or print it as one file'
complete -c pymem -n "__fish_pymem_needs_command" -f -a "index" -d 'Index snapshots ahead of time, so that every later command on them opens at once'
complete -c pymem -n "__fish_pymem_needs_command" -f -a "report" -d 'One self-contained HTML page to explore a snapshot in a browser'
complete -c pymem -n "__fish_pymem_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c pymem -n "__fish_pymem_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pymem -n "__fish_pymem_using_subcommand summary" -l by -d 'Group objects by type or by the module that defines their type' -r -f -a "type\t''
module\t''
traceback\t'Allocation site (needs snapshots captured with tracemalloc on)'"
complete -c pymem -n "__fish_pymem_using_subcommand summary" -l limit -d 'Rows to show' -r
complete -c pymem -n "__fish_pymem_using_subcommand summary" -l frames -d 'Which frames of an allocation traceback name the site (snapshots taken with tracemalloc)' -r -f -a "user\t'The innermost frame in your own code (not the standard library, site-packages or frozen importlib)'
all\t'The whole recorded stack, innermost first'"
complete -c pymem -n "__fish_pymem_using_subcommand summary" -l format -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c pymem -n "__fish_pymem_using_subcommand summary" -l fold -d 'Count each instance\'s own __dict__ in its class\'s row (heapy\'s "dict of class")'
complete -c pymem -n "__fish_pymem_using_subcommand summary" -l partial -d 'Load a snapshot that has no end record (a capture that was cut short)'
complete -c pymem -n "__fish_pymem_using_subcommand summary" -l no-index -d 'Neither open nor write a snapshot\'s index for this command (parse the JSON again)'
complete -c pymem -n "__fish_pymem_using_subcommand summary" -l index -d 'Index a snapshot read from standard input too, in the cache folder (its name is printed on stderr; give it in place of the snapshot later)'
complete -c pymem -n "__fish_pymem_using_subcommand summary" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pymem -n "__fish_pymem_using_subcommand top" -l by -d 'Rank objects, or types/modules by the bytes their instances retain' -r -f -a "object\t''
type\t''
module\t''"
complete -c pymem -n "__fish_pymem_using_subcommand top" -l limit -d 'Rows to show' -r
complete -c pymem -n "__fish_pymem_using_subcommand top" -l format -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c pymem -n "__fish_pymem_using_subcommand top" -l partial -d 'Load a snapshot that has no end record (a capture that was cut short)'
complete -c pymem -n "__fish_pymem_using_subcommand top" -l no-index -d 'Neither open nor write a snapshot\'s index for this command (parse the JSON again)'
complete -c pymem -n "__fish_pymem_using_subcommand top" -l index -d 'Index a snapshot read from standard input too, in the cache folder (its name is printed on stderr; give it in place of the snapshot later)'
complete -c pymem -n "__fish_pymem_using_subcommand top" -s h -l help -d 'Print help'
complete -c pymem -n "__fish_pymem_using_subcommand path" -l type -d 'Paths to the instances of this type (module.Qualname or Qualname), biggest first' -r
complete -c pymem -n "__fish_pymem_using_subcommand path" -l limit -d 'Instances to show with --type' -r
complete -c pymem -n "__fish_pymem_using_subcommand path" -l format -d 'Output format (dot: the retainer graph for graphviz)' -r -f -a "table\t''
json\t''
dot\t''"
complete -c pymem -n "__fish_pymem_using_subcommand path" -l partial -d 'Load a snapshot that has no end record'
complete -c pymem -n "__fish_pymem_using_subcommand path" -l no-index -d 'Neither open nor write a snapshot\'s index for this command (parse the JSON again)'
complete -c pymem -n "__fish_pymem_using_subcommand path" -l index -d 'Index a snapshot read from standard input too, in the cache folder (its name is printed on stderr; give it in place of the snapshot later)'
complete -c pymem -n "__fish_pymem_using_subcommand path" -s h -l help -d 'Print help'
complete -c pymem -n "__fish_pymem_using_subcommand show" -l limit -d 'Referrers and referents to list' -r
complete -c pymem -n "__fish_pymem_using_subcommand show" -l format -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c pymem -n "__fish_pymem_using_subcommand show" -l partial -d 'Load a snapshot that has no end record (a capture that was cut short)'
complete -c pymem -n "__fish_pymem_using_subcommand show" -l no-index -d 'Neither open nor write a snapshot\'s index for this command (parse the JSON again)'
complete -c pymem -n "__fish_pymem_using_subcommand show" -l index -d 'Index a snapshot read from standard input too, in the cache folder (its name is printed on stderr; give it in place of the snapshot later)'
complete -c pymem -n "__fish_pymem_using_subcommand show" -s h -l help -d 'Print help'
complete -c pymem -n "__fish_pymem_using_subcommand diff" -l by -d 'Group by type, by the module that defines the type, or by allocation traceback' -r -f -a "type\t''
module\t''
traceback\t'Allocation site (needs snapshots captured with tracemalloc on)'"
complete -c pymem -n "__fish_pymem_using_subcommand diff" -l limit -d 'Rows (and new/gone objects) to show' -r
complete -c pymem -n "__fish_pymem_using_subcommand diff" -l frames -d 'Which frames of an allocation traceback name the site (snapshots taken with tracemalloc)' -r -f -a "user\t'The innermost frame in your own code (not the standard library, site-packages or frozen importlib)'
all\t'The whole recorded stack, innermost first'"
complete -c pymem -n "__fish_pymem_using_subcommand diff" -l format -d 'Output format' -r -f -a "table\t''
json\t''
csv\t''"
complete -c pymem -n "__fish_pymem_using_subcommand diff" -l partial -d 'Load snapshots that have no end record'
complete -c pymem -n "__fish_pymem_using_subcommand diff" -l no-index -d 'Neither open nor write a snapshot\'s index for this command (parse the JSON again)'
complete -c pymem -n "__fish_pymem_using_subcommand diff" -l index -d 'Index a snapshot read from standard input too, in the cache folder (its name is printed on stderr; give it in place of the snapshot later)'
complete -c pymem -n "__fish_pymem_using_subcommand diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pymem -n "__fish_pymem_using_subcommand leaks" -l limit -d 'Leak roots to show' -r
complete -c pymem -n "__fish_pymem_using_subcommand leaks" -l min-growth -d 'A root that grew in every round counts as a leak only if it grew at least this much per round' -r
complete -c pymem -n "__fish_pymem_using_subcommand leaks" -l ignore -d 'Ignore leak roots whose path matches this wildcard pattern (`*`, `?`); repeatable' -r
complete -c pymem -n "__fish_pymem_using_subcommand leaks" -l suppressions -d 'A file of patterns, one per line (`#` starts a comment); repeatable' -r -F
complete -c pymem -n "__fish_pymem_using_subcommand leaks" -l max-native-growth -d 'Memory outside Python objects (C heap no object accounts for, other anonymous memory) that may grow in all, first snapshot to last, before growth in every round is a native leak' -r
complete -c pymem -n "__fish_pymem_using_subcommand leaks" -l frames -d 'Which frames of an allocation traceback name the site (snapshots taken with tracemalloc)' -r -f -a "user\t'The innermost frame in your own code (not the standard library, site-packages or frozen importlib)'
all\t'The whole recorded stack, innermost first'"
complete -c pymem -n "__fish_pymem_using_subcommand leaks" -l format -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c pymem -n "__fish_pymem_using_subcommand leaks" -l no-builtin-suppressions -d 'Do not suppress the built-in interpreter noise (import machinery, linecache, ...)'
complete -c pymem -n "__fish_pymem_using_subcommand leaks" -l partial -d 'Load snapshots that have no end record'
complete -c pymem -n "__fish_pymem_using_subcommand leaks" -l no-index -d 'Neither open nor write a snapshot\'s index for this command (parse the JSON again)'
complete -c pymem -n "__fish_pymem_using_subcommand leaks" -l index -d 'Index a snapshot read from standard input too, in the cache folder (its name is printed on stderr; give it in place of the snapshot later)'
complete -c pymem -n "__fish_pymem_using_subcommand leaks" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pymem -n "__fish_pymem_using_subcommand gate" -l max-growth -d 'Bytes the leak roots may grow by in all, first snapshot to last (e.g. 65536, 64KiB, 1.5MiB)' -r
complete -c pymem -n "__fish_pymem_using_subcommand gate" -l max-leaks -d 'Leak roots allowed (default: any number within --max-growth)' -r
complete -c pymem -n "__fish_pymem_using_subcommand gate" -l limit -d 'Leak roots to list' -r
complete -c pymem -n "__fish_pymem_using_subcommand gate" -l min-growth -d 'A root that grew in every round counts as a leak only if it grew at least this much per round' -r
complete -c pymem -n "__fish_pymem_using_subcommand gate" -l ignore -d 'Ignore leak roots whose path matches this wildcard pattern (`*`, `?`); repeatable' -r
complete -c pymem -n "__fish_pymem_using_subcommand gate" -l suppressions -d 'A file of patterns, one per line (`#` starts a comment); repeatable' -r -F
complete -c pymem -n "__fish_pymem_using_subcommand gate" -l max-native-growth -d 'Memory outside Python objects (C heap no object accounts for, other anonymous memory) that may grow in all, first snapshot to last, before growth in every round is a native leak' -r
complete -c pymem -n "__fish_pymem_using_subcommand gate" -l frames -d 'Which frames of an allocation traceback name the site (snapshots taken with tracemalloc)' -r -f -a "user\t'The innermost frame in your own code (not the standard library, site-packages or frozen importlib)'
all\t'The whole recorded stack, innermost first'"
complete -c pymem -n "__fish_pymem_using_subcommand gate" -l format -d 'Output format (junit: a JUnit XML report for CI systems)' -r -f -a "table\t''
json\t''
junit\t''"
complete -c pymem -n "__fish_pymem_using_subcommand gate" -l html -d 'Also write the HTML report of the series, whatever the verdict (a CI artifact)' -r -F
complete -c pymem -n "__fish_pymem_using_subcommand gate" -l no-builtin-suppressions -d 'Do not suppress the built-in interpreter noise (import machinery, linecache, ...)'
complete -c pymem -n "__fish_pymem_using_subcommand gate" -l partial -d 'Load snapshots that have no end record'
complete -c pymem -n "__fish_pymem_using_subcommand gate" -l no-index -d 'Neither open nor write a snapshot\'s index for this command (parse the JSON again)'
complete -c pymem -n "__fish_pymem_using_subcommand gate" -l index -d 'Index a snapshot read from standard input too, in the cache folder (its name is printed on stderr; give it in place of the snapshot later)'
complete -c pymem -n "__fish_pymem_using_subcommand gate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pymem -n "__fish_pymem_using_subcommand caches" -l min-entries -d 'Containers with fewer entries are not listed' -r
complete -c pymem -n "__fish_pymem_using_subcommand caches" -l limit -d 'Caches to show' -r
complete -c pymem -n "__fish_pymem_using_subcommand caches" -l format -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c pymem -n "__fish_pymem_using_subcommand caches" -l partial -d 'Load a snapshot that has no end record (a capture that was cut short)'
complete -c pymem -n "__fish_pymem_using_subcommand caches" -l no-index -d 'Neither open nor write a snapshot\'s index for this command (parse the JSON again)'
complete -c pymem -n "__fish_pymem_using_subcommand caches" -l index -d 'Index a snapshot read from standard input too, in the cache folder (its name is printed on stderr; give it in place of the snapshot later)'
complete -c pymem -n "__fish_pymem_using_subcommand caches" -s h -l help -d 'Print help'
complete -c pymem -n "__fish_pymem_using_subcommand advise" -l min-instances -d 'Instances (or containers) a pattern needs before it is worth advice' -r
complete -c pymem -n "__fish_pymem_using_subcommand advise" -l min-list -d 'Entries a list of numbers needs before array.array is suggested' -r
complete -c pymem -n "__fish_pymem_using_subcommand advise" -l format -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c pymem -n "__fish_pymem_using_subcommand advise" -l partial -d 'Load a snapshot that has no end record (a capture that was cut short)'
complete -c pymem -n "__fish_pymem_using_subcommand advise" -l no-index -d 'Neither open nor write a snapshot\'s index for this command (parse the JSON again)'
complete -c pymem -n "__fish_pymem_using_subcommand advise" -l index -d 'Index a snapshot read from standard input too, in the cache folder (its name is printed on stderr; give it in place of the snapshot later)'
complete -c pymem -n "__fish_pymem_using_subcommand advise" -s h -l help -d 'Print help'
complete -c pymem -n "__fish_pymem_using_subcommand frag" -l threshold -d 'Arenas used below this percentage are pinned' -r
complete -c pymem -n "__fish_pymem_using_subcommand frag" -l by -d 'How blocks in pinned arenas are grouped' -r -f -a "type\t'Objects by type, buffers by their owner\'s type'
owner\t'Objects by the container holding them, buffers by their owner'
traceback\t'Allocation site (needs snapshots captured with tracemalloc on)'"
complete -c pymem -n "__fish_pymem_using_subcommand frag" -l svg -d 'Also draw the arena map (of the last snapshot) as SVG into FILE' -r -F
complete -c pymem -n "__fish_pymem_using_subcommand frag" -l limit -d 'Groups to show' -r
complete -c pymem -n "__fish_pymem_using_subcommand frag" -l frames -d 'Which frames of an allocation traceback name the site (snapshots taken with tracemalloc)' -r -f -a "user\t'The innermost frame in your own code (not the standard library, site-packages or frozen importlib)'
all\t'The whole recorded stack, innermost first'"
complete -c pymem -n "__fish_pymem_using_subcommand frag" -l format -d 'Output format' -r -f -a "table\t''
json\t''"
complete -c pymem -n "__fish_pymem_using_subcommand frag" -l partial -d 'Load a snapshot that has no end record (a capture that was cut short)'
complete -c pymem -n "__fish_pymem_using_subcommand frag" -l no-index -d 'Neither open nor write a snapshot\'s index for this command (parse the JSON again)'
complete -c pymem -n "__fish_pymem_using_subcommand frag" -l index -d 'Index a snapshot read from standard input too, in the cache folder (its name is printed on stderr; give it in place of the snapshot later)'
complete -c pymem -n "__fish_pymem_using_subcommand frag" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pymem -n "__fish_pymem_using_subcommand run" -s o -l output -d 'Directory for the snapshots' -r -F
complete -c pymem -n "__fish_pymem_using_subcommand run" -l signal -d 'A snapshot whenever this signal arrives (name or number: USR2, SIGHUP, 12)' -r
complete -c pymem -n "__fish_pymem_using_subcommand run" -l every -d 'A snapshot every DURATION (30s, 10m, 1h)' -r
complete -c pymem -n "__fish_pymem_using_subcommand run" -l tracemalloc -d 'Trace allocations with this many frames, so snapshots say where objects were allocated' -r
complete -c pymem -n "__fish_pymem_using_subcommand run" -l python -d 'The Python interpreter to run (default: the one the script\'s or command\'s shebang names, else the active virtual environment\'s, else python3)' -r
complete -c pymem -n "__fish_pymem_using_subcommand run" -l at-exit -d 'A snapshot when the program exits (the default when no other trigger is given)'
complete -c pymem -n "__fish_pymem_using_subcommand run" -l values -d 'Record string and bytes contents and every dict key (private data). Without it only names are recorded: of modules, classes, functions and attributes, and dict keys that are identifiers of up to 64 characters or ints; other keys as `<str len=N>`'
complete -c pymem -n "__fish_pymem_using_subcommand run" -l follow-forks -d 'Children the program forks (workers, multiprocessing) take snapshots too, each named by its own pid. Without it only the program\'s own process does'
complete -c pymem -n "__fish_pymem_using_subcommand run" -l no-index -d 'Neither open nor write a snapshot\'s index for this command (parse the JSON again)'
complete -c pymem -n "__fish_pymem_using_subcommand run" -l index -d 'Index a snapshot read from standard input too, in the cache folder (its name is printed on stderr; give it in place of the snapshot later)'
complete -c pymem -n "__fish_pymem_using_subcommand run" -s h -l help -d 'Print help'
complete -c pymem -n "__fish_pymem_using_subcommand attach" -s o -l output -d 'Snapshot file (default: pymem-PID-attach.jsonl here)' -r -F
complete -c pymem -n "__fish_pymem_using_subcommand attach" -l timeout -d 'Give up after this many seconds (the process is left running)' -r
complete -c pymem -n "__fish_pymem_using_subcommand attach" -l method -d 'How: read the process\'s memory from outside (no code runs in it), or inject the agent and let the process capture itself' -r -f -a "read\t''
inject\t''"
complete -c pymem -n "__fish_pymem_using_subcommand attach" -l gdb -d 'The gdb to inject with (default: gdb on PATH)' -r -F
complete -c pymem -n "__fish_pymem_using_subcommand attach" -l values -d 'Record string and bytes contents and every dict key (private data). Without it only names are recorded: of modules, classes, functions and attributes, and dict keys that are identifiers of up to 64 characters or ints; other keys as `<str len=N>`'
complete -c pymem -n "__fish_pymem_using_subcommand attach" -l no-index -d 'Neither open nor write a snapshot\'s index for this command (parse the JSON again)'
complete -c pymem -n "__fish_pymem_using_subcommand attach" -l index -d 'Index a snapshot read from standard input too, in the cache folder (its name is printed on stderr; give it in place of the snapshot later)'
complete -c pymem -n "__fish_pymem_using_subcommand attach" -s h -l help -d 'Print help'
complete -c pymem -n "__fish_pymem_using_subcommand core" -l exe -d 'The executable the process ran, when it is not where the core says' -r -F
complete -c pymem -n "__fish_pymem_using_subcommand core" -l sysroot -d 'Look up the process\'s files (interpreter, libraries) under this directory' -r -F
complete -c pymem -n "__fish_pymem_using_subcommand core" -s o -l output -d 'Snapshot file (default: pymem-PID-core.jsonl here)' -r -F
complete -c pymem -n "__fish_pymem_using_subcommand core" -l values -d 'Record string and bytes contents and every dict key (private data). Without it only names are recorded: of modules, classes, functions and attributes, and dict keys that are identifiers of up to 64 characters or ints; other keys as `<str len=N>`'
complete -c pymem -n "__fish_pymem_using_subcommand core" -l no-index -d 'Neither open nor write a snapshot\'s index for this command (parse the JSON again)'
complete -c pymem -n "__fish_pymem_using_subcommand core" -l index -d 'Index a snapshot read from standard input too, in the cache folder (its name is printed on stderr; give it in place of the snapshot later)'
complete -c pymem -n "__fish_pymem_using_subcommand core" -s h -l help -d 'Print help'
complete -c pymem -n "__fish_pymem_using_subcommand watch" -l rss -d 'Take a snapshot when the resident set size reaches this (e.g. 512MiB, 3GiB)' -r
complete -c pymem -n "__fish_pymem_using_subcommand watch" -l step -d 'Go on after the first snapshot: another each time RSS grows by STEP more' -r
complete -c pymem -n "__fish_pymem_using_subcommand watch" -l every -d 'How often to look at the RSS' -r
complete -c pymem -n "__fish_pymem_using_subcommand watch" -s o -l output -d 'Directory for the snapshots (default: here)' -r -F
complete -c pymem -n "__fish_pymem_using_subcommand watch" -l repeat -d 'Go on after the first snapshot: another at each further multiple of SIZE'
complete -c pymem -n "__fish_pymem_using_subcommand watch" -l values -d 'Record string and bytes contents and every dict key (private data). Without it only names are recorded: of modules, classes, functions and attributes, and dict keys that are identifiers of up to 64 characters or ints; other keys as `<str len=N>`'
complete -c pymem -n "__fish_pymem_using_subcommand watch" -l no-index -d 'Neither open nor write a snapshot\'s index for this command (parse the JSON again)'
complete -c pymem -n "__fish_pymem_using_subcommand watch" -l index -d 'Index a snapshot read from standard input too, in the cache folder (its name is printed on stderr; give it in place of the snapshot later)'
complete -c pymem -n "__fish_pymem_using_subcommand watch" -s h -l help -d 'Print help'
complete -c pymem -n "__fish_pymem_using_subcommand agent" -l write -d 'Directory to write the pymem_agent package into (DIR/pymem_agent/)' -r -F
complete -c pymem -n "__fish_pymem_using_subcommand agent" -l print -d 'Print the agent on stdout as one file (pymem_agent.py), joined from the package'
complete -c pymem -n "__fish_pymem_using_subcommand agent" -l no-index -d 'Neither open nor write a snapshot\'s index for this command (parse the JSON again)'
complete -c pymem -n "__fish_pymem_using_subcommand agent" -l index -d 'Index a snapshot read from standard input too, in the cache folder (its name is printed on stderr; give it in place of the snapshot later)'
complete -c pymem -n "__fish_pymem_using_subcommand agent" -s h -l help -d 'Print help'
complete -c pymem -n "__fish_pymem_using_subcommand index" -l no-index -d 'Neither open nor write a snapshot\'s index for this command (parse the JSON again)'
complete -c pymem -n "__fish_pymem_using_subcommand index" -l index -d 'Index a snapshot read from standard input too, in the cache folder (its name is printed on stderr; give it in place of the snapshot later)'
complete -c pymem -n "__fish_pymem_using_subcommand index" -s h -l help -d 'Print help'
complete -c pymem -n "__fish_pymem_using_subcommand report" -s o -l output -d 'The HTML file to write' -r -F
complete -c pymem -n "__fish_pymem_using_subcommand report" -l min-share -d 'Objects retaining less than this share of the heap are folded (0..1)' -r
complete -c pymem -n "__fish_pymem_using_subcommand report" -l max-nodes -d 'At most this many objects of the dominator tree in the page (the largest first)' -r
complete -c pymem -n "__fish_pymem_using_subcommand report" -l min-growth -d 'A root that grew in every round counts as a leak only if it grew at least this much per round' -r
complete -c pymem -n "__fish_pymem_using_subcommand report" -l ignore -d 'Ignore leak roots whose path matches this wildcard pattern (`*`, `?`); repeatable' -r
complete -c pymem -n "__fish_pymem_using_subcommand report" -l suppressions -d 'A file of patterns, one per line (`#` starts a comment); repeatable' -r -F
complete -c pymem -n "__fish_pymem_using_subcommand report" -l max-native-growth -d 'Memory outside Python objects (C heap no object accounts for, other anonymous memory) that may grow in all, first snapshot to last, before growth in every round is a native leak' -r
complete -c pymem -n "__fish_pymem_using_subcommand report" -l frames -d 'Which frames of an allocation traceback name the site (snapshots taken with tracemalloc)' -r -f -a "user\t'The innermost frame in your own code (not the standard library, site-packages or frozen importlib)'
all\t'The whole recorded stack, innermost first'"
complete -c pymem -n "__fish_pymem_using_subcommand report" -l open -d 'Open the page in the default browser once written (xdg-open)'
complete -c pymem -n "__fish_pymem_using_subcommand report" -l no-builtin-suppressions -d 'Do not suppress the built-in interpreter noise (import machinery, linecache, ...)'
complete -c pymem -n "__fish_pymem_using_subcommand report" -l partial -d 'Load snapshots that have no end record'
complete -c pymem -n "__fish_pymem_using_subcommand report" -l no-index -d 'Neither open nor write a snapshot\'s index for this command (parse the JSON again)'
complete -c pymem -n "__fish_pymem_using_subcommand report" -l index -d 'Index a snapshot read from standard input too, in the cache folder (its name is printed on stderr; give it in place of the snapshot later)'
complete -c pymem -n "__fish_pymem_using_subcommand report" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pymem -n "__fish_pymem_using_subcommand completions" -l no-index -d 'Neither open nor write a snapshot\'s index for this command (parse the JSON again)'
complete -c pymem -n "__fish_pymem_using_subcommand completions" -l index -d 'Index a snapshot read from standard input too, in the cache folder (its name is printed on stderr; give it in place of the snapshot later)'
complete -c pymem -n "__fish_pymem_using_subcommand completions" -s h -l help -d 'Print help'
complete -c pymem -n "__fish_pymem_using_subcommand help; and not __fish_seen_subcommand_from summary top path show diff leaks gate caches advise frag run attach core watch agent index report completions help" -f -a "summary" -d 'What is in the heap: capture facts and objects by type or module'
complete -c pymem -n "__fish_pymem_using_subcommand help; and not __fish_seen_subcommand_from summary top path show diff leaks gate caches advise frag run attach core watch agent index report completions help" -f -a "top" -d 'The biggest retainers (dominator tree) with their paths, or retained bytes by type/module'
complete -c pymem -n "__fish_pymem_using_subcommand help; and not __fish_seen_subcommand_from summary top path show diff leaks gate caches advise frag run attach core watch agent index report completions help" -f -a "path" -d 'Why objects are alive: shortest labelled paths from a root, e.g. shop._carts[\'u42\'].payload[3]'
complete -c pymem -n "__fish_pymem_using_subcommand help; and not __fish_seen_subcommand_from summary top path show diff leaks gate caches advise frag run attach core watch agent index report completions help" -f -a "show" -d 'One object: sizes, retained size, referrers and referents with labels, path to a root'
complete -c pymem -n "__fish_pymem_using_subcommand help; and not __fish_seen_subcommand_from summary top path show diff leaks gate caches advise frag run attach core watch agent index report completions help" -f -a "diff" -d 'What changed between two snapshots: counts and bytes per type or module, new and gone objects'
complete -c pymem -n "__fish_pymem_using_subcommand help; and not __fish_seen_subcommand_from summary top path show diff leaks gate caches advise frag run attach core watch agent index report completions help" -f -a "leaks" -d 'The containers that grow: leak roots named by their paths, with growth per round'
complete -c pymem -n "__fish_pymem_using_subcommand help; and not __fish_seen_subcommand_from summary top path show diff leaks gate caches advise frag run attach core watch agent index report completions help" -f -a "gate" -d 'CI leak gate: exit 0 pass, 1 fail (leak roots grew beyond the limits), 2 error'
complete -c pymem -n "__fish_pymem_using_subcommand help; and not __fish_seen_subcommand_from summary top path show diff leaks gate caches advise frag run attach core watch agent index report completions help" -f -a "caches" -d 'Caches: containers held by modules, classes and long-lived objects, their bounds and growth'
complete -c pymem -n "__fish_pymem_using_subcommand help; and not __fish_seen_subcommand_from summary top path show diff leaks gate caches advise frag run attach core watch agent index report completions help" -f -a "advise" -d 'Advice with the bytes at stake: __slots__, duplicate strings, empty and over-allocated containers, number lists, caches'
complete -c pymem -n "__fish_pymem_using_subcommand help; and not __fish_seen_subcommand_from summary top path show diff leaks gate caches advise frag run attach core watch agent index report completions help" -f -a "frag" -d 'Fragmentation: which live blocks pin which pymalloc arenas, so RSS never goes down'
complete -c pymem -n "__fish_pymem_using_subcommand help; and not __fish_seen_subcommand_from summary top path show diff leaks gate caches advise frag run attach core watch agent index report completions help" -f -a "run" -d 'Run a Python program with snapshots armed: at exit, on a signal, or periodically'
complete -c pymem -n "__fish_pymem_using_subcommand help; and not __fish_seen_subcommand_from summary top path show diff leaks gate caches advise frag run attach core watch agent index report completions help" -f -a "attach" -d 'Take a snapshot of a running CPython process, which keeps running'
complete -c pymem -n "__fish_pymem_using_subcommand help; and not __fish_seen_subcommand_from summary top path show diff leaks gate caches advise frag run attach core watch agent index report completions help" -f -a "core" -d 'Take a snapshot of the heap in a core file (from the kernel or gcore)'
complete -c pymem -n "__fish_pymem_using_subcommand help; and not __fish_seen_subcommand_from summary top path show diff leaks gate caches advise frag run attach core watch agent index report completions help" -f -a "watch" -d 'Take a read-only snapshot when a process\'s RSS reaches a size (before the OOM killer)'
complete -c pymem -n "__fish_pymem_using_subcommand help; and not __fish_seen_subcommand_from summary top path show diff leaks gate caches advise frag run attach core watch agent index report completions help" -f -a "agent" -d 'Write the capture agent (the pymem_agent package, stdlib only), or print it as one file'
complete -c pymem -n "__fish_pymem_using_subcommand help; and not __fish_seen_subcommand_from summary top path show diff leaks gate caches advise frag run attach core watch agent index report completions help" -f -a "index" -d 'Index snapshots ahead of time, so that every later command on them opens at once'
complete -c pymem -n "__fish_pymem_using_subcommand help; and not __fish_seen_subcommand_from summary top path show diff leaks gate caches advise frag run attach core watch agent index report completions help" -f -a "report" -d 'One self-contained HTML page to explore a snapshot in a browser'
complete -c pymem -n "__fish_pymem_using_subcommand help; and not __fish_seen_subcommand_from summary top path show diff leaks gate caches advise frag run attach core watch agent index report completions help" -f -a "completions" -d 'Print shell completions'
complete -c pymem -n "__fish_pymem_using_subcommand help; and not __fish_seen_subcommand_from summary top path show diff leaks gate caches advise frag run attach core watch agent index report completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

{{ include "kfuse.statefulset" (dict "name" "kfuse-configdb" "root" .) }}
---
{{ include "kfuse.statefulset" (dict "name" "orchestrator-postgresql" "root" .) }}

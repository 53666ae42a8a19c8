{{- /* Fixed-name Jobs whose immutable pod templates make a later `helm upgrade` fail unless they are deleted. */}}
{{- range list "kfuse-create-pgdb-databases" "kfuse-kafka-topic-creation" "kfuse-setup-pinot" }}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ . }}
  labels: {app.kubernetes.io/instance: {{ $.Release.Name }}}
spec:
  backoffLimit: 0
  template:
    metadata:
      labels: {app.kubernetes.io/name: {{ . }}}
      annotations:
        kfuse.io/chart-version: {{ $.Chart.Version | quote }}
    spec:
      restartPolicy: Never
      {{- include "kfuse.pinning" $ | nindent 6 }}
      containers:
        - name: main
          image: kfuse/setup:lab
{{- end }}

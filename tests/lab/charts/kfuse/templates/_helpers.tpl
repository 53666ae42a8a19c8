{{- define "kfuse.pinning" -}}
{{- with .Values.global.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.global.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "kfuse.statefulset" -}}
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ .name }}
  labels: {app.kubernetes.io/name: {{ .name }}, app.kubernetes.io/instance: {{ .root.Release.Name }}}
spec:
  serviceName: {{ .name }}
  replicas: 1
  selector:
    matchLabels: {app.kubernetes.io/name: {{ .name }}}
  template:
    metadata:
      labels: {app.kubernetes.io/name: {{ .name }}, app.kubernetes.io/instance: {{ .root.Release.Name }}}
    spec:
      {{- include "kfuse.pinning" .root | nindent 6 }}
      containers:
        - name: postgresql
          image: kfuse/postgresql:lab
          env:
            - name: POSTGRES_PASSWORD
              valueFrom:
                secretKeyRef: {name: kfuse-pg-credentials, key: postgresql-password, optional: true}
{{- end -}}

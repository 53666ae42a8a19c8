apiVersion: v1
kind: ConfigMap
metadata:
  name: kfuse-version
  labels: {app.kubernetes.io/instance: {{ .Release.Name }}}
data:
  version: {{ .Chart.AppVersion | quote }}

{{- if index .Values "az-service" "enabled" }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: az-service
  labels: {app.kubernetes.io/name: az-service, app.kubernetes.io/instance: {{ .Release.Name }}}
spec:
  replicas: 1
  selector:
    matchLabels: {app.kubernetes.io/name: az-service}
  template:
    metadata:
      labels: {app.kubernetes.io/name: az-service, app.kubernetes.io/instance: {{ .Release.Name }}}
      annotations:
        kfuse.io/zone: {{ index .Values "az-service" "config" "zone" | quote }}
    spec:
      {{- include "kfuse.pinning" . | nindent 6 }}
      containers:
        - name: az-service
          image: kfuse/az-service:lab
          ports:
            - {name: https, containerPort: 8443, protocol: TCP}
---
apiVersion: v1
kind: Service
metadata:
  name: az-service
  labels: {app.kubernetes.io/name: az-service, app.kubernetes.io/instance: {{ .Release.Name }}}
spec:
  selector: {app.kubernetes.io/name: az-service}
  ports:
    - {name: https, port: 8080, targetPort: https, protocol: TCP}
{{- end }}

{{- define "solex.name" -}}{{ .Release.Name }}-solex{{- end -}}

{{- define "solex.labels" -}}
app.kubernetes.io/part-of: solex
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{- define "solex.selector" -}}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "solex.secret" -}}
{{- if .Values.secrets.existingSecret -}}{{ .Values.secrets.existingSecret }}{{- else -}}{{ include "solex.name" . }}-urls{{- end -}}
{{- end -}}

{{- define "solex.image" -}}
{{ .root.Values.image.registry }}/solex-{{ .component }}:{{ .root.Values.image.tag }}
{{- end -}}

{{- define "solex.podSecurity" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{- define "solex.containerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]
{{- end -}}

{{- define "solex.scrape" -}}
{{- if .root.Values.metrics.annotations }}
annotations:
  prometheus.io/scrape: "true"
  prometheus.io/port: {{ .port | quote }}
  prometheus.io/path: /metrics
{{- end }}
{{- end -}}

{{- define "solex.env" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "solex.secret" . }}
      key: DATABASE_URL
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "solex.secret" . }}
      key: REDIS_URL
- name: SOLEX_RPC_URL
  value: {{ .Values.rpcUrl | quote }}
{{- end -}}

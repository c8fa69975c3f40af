"""The kubernetes backend: Deployments, Services, Secrets, HPAs and run Pods per app namespace."""
